-- A cross-origin GET from an allowed origin: forwarded, ACAO added.
wrk.method = "GET"
wrk.path = "/api/items"
wrk.headers["Origin"] = "https://app.example.com"
