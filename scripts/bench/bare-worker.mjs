// The floor: what any Worker in front of the origin costs. It answers every
// OPTIONS with a bare 204 and forwards everything else as the CORS Workers do,
// without adding or checking anything.
export default {
  fetch(request, env) {
    if (request.method === "OPTIONS") {
      return new Response(null, { status: 204 });
    }
    return forward(request, env.ORIGIN_URL);
  },
};

function forward(request, originUrl) {
  const url = new URL(request.url);
  return fetch(originUrl + url.pathname + url.search, {
    method: request.method,
    headers: request.headers,
    body: request.body,
    redirect: "manual",
  });
}
