#!/usr/bin/env python3
"""A stand-in origin server for the README's demo: scripts/demo-upstream.py PORT

Listens on 127.0.0.1:PORT and answers every method with 200 and a JSON body
describing the request it received, so you can see what the filter forwarded
(and that a preflight never arrived). It sends the headers a real API might:
X-RateLimit-Remaining (which the demo policy exposes to browsers) and a Vary
(which the filter must merge Origin into). One log line per request on stderr.
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 keeps connections open (every answer has a Content-Length), so
    # the proxy in front can reuse them instead of reconnecting per request.
    protocol_version = "HTTP/1.1"
    # Headers and body go out as two writes; with Nagle on, the body waits for
    # the proxy's delayed ACK and every response takes 40 ms longer.
    disable_nagle_algorithm = True

    def version_string(self):
        return "demo-upstream"

    def answer(self):
        # Read (and drop) any request body so the connection stays usable.
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        body = json.dumps(
            {
                "method": self.command,
                "path": self.path,
                "origin": self.headers.get("Origin"),
            }
        ).encode() + b"\n"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-RateLimit-Remaining", "42")
        self.send_header("Vary", "Accept-Encoding")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    # http.server looks up do_<METHOD> for each request: answer every method,
    # including ones it has never heard of, the same way.
    def __getattr__(self, name):
        if name.startswith("do_"):
            return self.answer
        raise AttributeError(name)

    def log_request(self, code="-", size="-"):
        origin = self.headers.get("Origin", "-")
        sys.stderr.write(f"demo-upstream: {self.command} {self.path} origin={origin} -> {code}\n")


def main():
    if len(sys.argv) != 2 or not sys.argv[1].isdigit():
        sys.exit("usage: demo-upstream.py PORT")
    port = int(sys.argv[1])
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(f"demo-upstream: listening on http://127.0.0.1:{port}", file=sys.stderr)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
