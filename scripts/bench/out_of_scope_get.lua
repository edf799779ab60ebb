-- A GET on a path outside every policy (the native filter has no policy on
-- that route either).
wrk.method = "GET"
wrk.path = "/static/app.js"
wrk.headers["Origin"] = "https://app.example.com"
