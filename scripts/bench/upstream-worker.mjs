// The origin server behind every benchmarked Worker: a second Worker in the
// same workerd, bound as their global outbound, so forwarding costs no TCP
// and no process of its own. It answers like a small JSON API.
export default {
  fetch() {
    return new Response('{"items":[]}\n', {
      headers: {
        "content-type": "application/json",
        "cache-control": "private, max-age=0",
        vary: "Accept-Encoding",
        etag: '"v1"',
        "x-ratelimit-remaining": "99",
      },
    });
  },
};
