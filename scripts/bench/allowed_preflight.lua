-- A preflight from an allowed origin, for an allowed method and headers.
-- The header names, their number and the shape of their values are those
-- Chromium 156's fetch() sends (the version strings are an older Chrome's,
-- of the same length), so header-map reads cost what they cost with browsers.
-- A preflight carries fewer headers than the request it asks about: no
-- client hints, no credentials.
wrk.method = "OPTIONS"
wrk.path = "/api/items"
wrk.headers["Host"] = "api.example.com"
wrk.headers["Connection"] = "keep-alive"
wrk.headers["Accept"] = "*/*"
wrk.headers["Access-Control-Request-Method"] = "PUT"
wrk.headers["Access-Control-Request-Headers"] = "content-type,x-token"
wrk.headers["Origin"] = "https://app.example.com"
wrk.headers["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
wrk.headers["Sec-Fetch-Site"] = "same-site"
wrk.headers["Sec-Fetch-Mode"] = "cors"
wrk.headers["Sec-Fetch-Dest"] = "empty"
wrk.headers["Accept-Encoding"] = "gzip, deflate, br, zstd"
wrk.headers["Accept-Language"] = "en-US,en;q=0.9"
wrk.headers["Referer"] = "https://app.example.com/"
