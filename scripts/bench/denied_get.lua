-- A cross-origin GET from an origin no policy allows: forwarded untouched.
wrk.method = "GET"
wrk.path = "/api/items"
wrk.headers["Origin"] = "https://evil.example.net"
