-- A preflight from an origin no policy allows: the allowed preflight's
-- Chromium headers (allowed_preflight.lua), sent from another site.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "allowed_preflight.lua")
wrk.headers["Origin"] = "https://evil.example.net"
wrk.headers["Sec-Fetch-Site"] = "cross-site"
wrk.headers["Referer"] = "https://evil.example.net/"
