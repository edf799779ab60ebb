-- A GET on a path outside every policy (the native filter has no policy on
-- that route either). allowed_get.lua, denied_get.lua and filter_off_get.lua
-- start from it.
-- The header names, their number and the shape of their values are those
-- Chromium 156's fetch() sends (the version strings are an older Chrome's,
-- of the same length), so header-map reads cost what they cost with browsers.
wrk.method = "GET"
wrk.path = "/static/app.js"
wrk.headers["Host"] = "api.example.com"
wrk.headers["Connection"] = "keep-alive"
wrk.headers["sec-ch-ua"] = [["Chromium";v="131", "Not_A Brand";v="24"]]
wrk.headers["sec-ch-ua-mobile"] = "?0"
wrk.headers["sec-ch-ua-platform"] = [["Linux"]]
wrk.headers["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
wrk.headers["Accept"] = "*/*"
wrk.headers["Origin"] = "https://app.example.com"
wrk.headers["Sec-Fetch-Site"] = "same-site"
wrk.headers["Sec-Fetch-Mode"] = "cors"
wrk.headers["Sec-Fetch-Dest"] = "empty"
wrk.headers["Accept-Encoding"] = "gzip, deflate, br, zstd"
wrk.headers["Accept-Language"] = "en-US,en;q=0.9"
wrk.headers["Referer"] = "https://app.example.com/"
