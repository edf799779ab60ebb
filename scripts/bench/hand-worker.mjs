// The bench policy (scripts/bench/policy.json) written by hand for the three
// benchmarked requests and nothing else: a CORS Worker can hardly do less.
// Preflights answered from constants, the GET forwarded as the bare Worker
// does and its answer rebuilt (a fetched response's headers are immutable)
// with four headers set. It shows what the CORS work costs at the least in
// workerd, above the bare floor: the Response rebuilt and the header calls.
const ORIGINS = new Set(["https://app.example.com", "https://admin.example.com"]);

export default {
  fetch(request, env) {
    const origin = request.headers.get("origin");
    const allowed = origin !== null && ORIGINS.has(origin);
    if (request.method === "OPTIONS") {
      if (!allowed) {
        return new Response(null, { status: 403, headers: { vary: "Origin" } });
      }
      const response = new Response(null, { status: 204 });
      const headers = response.headers;
      headers.set("access-control-allow-origin", origin);
      headers.set("access-control-allow-credentials", "true");
      headers.set("access-control-allow-methods", "GET,POST,PUT,DELETE");
      headers.set("access-control-allow-headers", request.headers.get("access-control-request-headers") ?? "");
      headers.set("access-control-max-age", "3600");
      headers.set("vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
      return response;
    }
    const url = new URL(request.url);
    const sent = fetch(env.ORIGIN_URL + url.pathname + url.search, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      redirect: "manual",
    });
    if (!allowed) {
      return sent;
    }
    return sent.then((upstream) => {
      const response = new Response(upstream.body, upstream);
      const headers = response.headers;
      const vary = headers.get("vary");
      headers.set("access-control-allow-origin", origin);
      headers.set("access-control-allow-credentials", "true");
      headers.set("access-control-expose-headers", "X-RateLimit-Remaining");
      headers.set("vary", vary === null ? "Origin" : `${vary}, Origin`);
      return response;
    });
  },
};
