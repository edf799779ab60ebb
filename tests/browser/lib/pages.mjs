// The origin a test page is served from: a tiny HTTP server on loopback.
import http from 'node:http';

const PAGE = '<!doctype html><meta charset="utf-8"><title>CORS browser test</title>';

/** Starts a server that serves an empty HTML page at every path. */
export async function startPageServer() {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(PAGE);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    port: server.address().port,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}
