// The plugin config for the browser tests. Page origins carry the page
// server's port, known only at run time, so the document is built then.

/** Origins a test page can be served from; every one maps to the page server. */
export function pageOrigins(pagePort, otherPort) {
  return {
    // Allowed by `account` (credentials) by exact match.
    localhost: `http://localhost:${pagePort}`,
    // Allowed by `api`: exactly, and through `http://*.example.com:<port>`.
    app: `http://app.example.com:${pagePort}`,
    shop: `http://shop.example.com:${pagePort}`,
    deep: `http://eu.shop.example.com:${pagePort}`,
    // Refused by `api`: another site, the wildcard's bare suffix, another port.
    evil: `http://evil.example.net:${pagePort}`,
    bare: `http://example.com:${pagePort}`,
    otherPort: `http://app.example.com:${otherPort}`,
  };
}

const SHARED = {
  allow_methods: ['GET', 'POST', 'PUT', 'DELETE'],
  allow_headers: ['Content-Type', 'X-CSRF-Token'],
  expose_headers: ['X-RateLimit-Remaining'],
  max_age: 600,
};

/**
 * Four policies, by path:
 * - `api`: the example.com names, with and without a wildcard; no credentials,
 *   because the config refuses credentials for plain-http origins off loopback
 *   (anyone on the path could forge them), and the browser tests run on http;
 * - `account`: the same rules for `http://localhost:<port>`, with credentials;
 * - `public`: `*`, GET only;
 * - `strict`: `disallowed: "reject"`, allowing only `app` (not the API's own
 *   origin, so a same-origin request must be let through as same-origin).
 */
export function browserConfig(pagePort, otherPort) {
  const o = pageOrigins(pagePort, otherPort);
  return {
    mode: 'enforce',
    policies: [
      { name: 'api', match: { paths: ['/api/*'] }, allow_origins: [o.app, `http://*.example.com:${pagePort}`], ...SHARED },
      { name: 'account', match: { paths: ['/account/*'] }, allow_origins: [o.localhost], allow_credentials: true, ...SHARED },
      { name: 'strict', match: { paths: ['/strict/*'] }, allow_origins: [o.app], disallowed: 'reject', ...SHARED },
      { name: 'public', match: { paths: ['/public/*'] }, allow_origins: ['*'], allow_methods: ['GET'], expose_headers: ['X-RateLimit-Remaining'], max_age: 600 },
    ],
  };
}
