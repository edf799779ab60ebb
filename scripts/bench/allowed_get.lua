-- A cross-origin GET from an allowed origin (after its preflight): forwarded, ACAO added.
-- The out-of-scope GET's Chromium headers (out_of_scope_get.lua), on a path
-- in the policy's scope, with the Accept and the custom header of an API call.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "out_of_scope_get.lua")
wrk.path = "/api/items"
wrk.headers["Accept"] = "application/json"
wrk.headers["x-token"] = "3f9a1c0e5b7d42a8"
