-- A preflight from an allowed origin, for an allowed method and headers.
wrk.method = "OPTIONS"
wrk.path = "/api/items"
wrk.headers["Origin"] = "https://app.example.com"
wrk.headers["Access-Control-Request-Method"] = "PUT"
wrk.headers["Access-Control-Request-Headers"] = "content-type,x-token"
