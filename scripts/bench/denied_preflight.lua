-- A preflight from an origin no policy allows.
wrk.method = "OPTIONS"
wrk.path = "/api/items"
wrk.headers["Origin"] = "https://evil.example.net"
wrk.headers["Access-Control-Request-Method"] = "PUT"
wrk.headers["Access-Control-Request-Headers"] = "content-type,x-token"
