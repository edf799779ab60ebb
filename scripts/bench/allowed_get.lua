-- A cross-origin GET from an allowed origin (after its preflight): forwarded, ACAO added.
-- The headers and values are those Chromium's fetch() sends (checked against
-- Chromium 156), so header-map reads cost what they cost with real browsers.
wrk.method = "GET"
wrk.path = "/api/items"
wrk.headers["Host"] = "api.example.com"
wrk.headers["Connection"] = "keep-alive"
wrk.headers["sec-ch-ua"] = [["Chromium";v="131", "Not_A Brand";v="24"]]
wrk.headers["sec-ch-ua-mobile"] = "?0"
wrk.headers["sec-ch-ua-platform"] = [["Linux"]]
wrk.headers["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
wrk.headers["Accept"] = "application/json"
wrk.headers["x-token"] = "3f9a1c0e5b7d42a8"
wrk.headers["Origin"] = "https://app.example.com"
wrk.headers["Sec-Fetch-Site"] = "same-site"
wrk.headers["Sec-Fetch-Mode"] = "cors"
wrk.headers["Sec-Fetch-Dest"] = "empty"
wrk.headers["Accept-Encoding"] = "gzip, deflate, br, zstd"
wrk.headers["Accept-Language"] = "en-US,en;q=0.9"
wrk.headers["Referer"] = "https://app.example.com/"
