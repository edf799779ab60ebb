-- A cross-origin GET from an origin no policy allows: forwarded untouched.
-- The out-of-scope GET's Chromium headers (out_of_scope_get.lua), on a path
-- in the policy's scope, sent from another site.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "out_of_scope_get.lua")
wrk.path = "/api/items"
wrk.headers["Origin"] = "https://evil.example.net"
wrk.headers["Sec-Fetch-Site"] = "cross-site"
wrk.headers["Referer"] = "https://evil.example.net/"
