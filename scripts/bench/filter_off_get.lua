-- The out-of-scope GET (out_of_scope_get.lua, the same headers) on a route
-- that turns the filter off: the module is never entered.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "out_of_scope_get.lua")
wrk.method = "GET"
wrk.path = "/assets/app.js"
