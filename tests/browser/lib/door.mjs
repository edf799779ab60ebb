// A recording reverse proxy in front of Envoy or workerd: the browser's only way
// in. Preflights are answered at the edge and never reach the upstream, so this
// is where the tests see what Chromium really sent, and count its preflights.
// It forwards every request and response as received (raw header lines
// included), adding only `extraHeaders` to each request: the tests use that to
// tell the harness's upstream which response headers to send, because a page
// that set such a header itself would turn every request into a preflighted one.
import http from 'node:http';

/** Starts the proxy in front of `127.0.0.1:targetPort`. */
export async function startDoor(targetPort, extraHeaders = []) {
  const seen = [];
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method, url: req.url, headers: req.headers });
    const upstream = http.request({
      host: '127.0.0.1',
      port: targetPort,
      method: req.method,
      path: req.url,
      headers: [...req.rawHeaders, ...extraHeaders.flat()],
      agent,
      timeout: 10_000,
    });
    upstream.on('response', (answer) => {
      res.writeHead(answer.statusCode, answer.statusMessage, answer.rawHeaders);
      answer.pipe(res);
    });
    upstream.on('timeout', () => upstream.destroy(new Error('no answer within 10 s')));
    upstream.on('error', (err) => {
      if (res.headersSent) {
        res.destroy(err);
        return;
      }
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`door: ${req.method} ${req.url} to port ${targetPort} failed: ${err.message}`);
    });
    req.pipe(upstream);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    port: server.address().port,
    /** Every request received so far, in order: `{ method, url, headers }`. */
    seen,
    /** The preflights received so far for `path` (query included). */
    preflights: (path) =>
      seen.filter((r) => r.method === 'OPTIONS' && r.url === path && r.headers['access-control-request-method']),
    close: () => {
      agent.destroy();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}
