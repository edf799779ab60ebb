// The JS half of the Worker: the runtime's Request, Response and Headers
// objects, handled in bulk so that each request crosses between JS and wasm a
// few times instead of a few times per header. In workerd every string that
// leaves wasm is a TextDecoder call into the runtime; with the Headers calls
// that came with them, these were most of the handler's time, the engine
// itself a small part (perf; cloudflare-worker/README.md has the figures).
// Every decision stays in Rust: this file only reads, sends and writes.
//
// Strings cross as lines. Header names and values never hold a newline (the
// runtime refuses them), and neither does a serialized URL.

/**
 * The request values the engine reads first, as lines: the method, the URL,
 * then for Origin and, on an OPTIONS only, each header of
 * `PREFLIGHT_HEADERS` in order, `+value` when present and `-` when absent
 * (an empty value is present). The engine looks at the preflight headers
 * for an OPTIONS only; left unread, each would be a call into the runtime
 * on every other request. Sec-Fetch-Site is read by `header`, when the
 * decision can depend on it.
 */
export function requestFacts(request) {
  const headers = request.headers;
  const method = request.method;
  let facts = `${method}\n${request.url}${line(headers.get("origin"))}`;
  if (method === "OPTIONS") {
    for (const name of PREFLIGHT_HEADERS) {
      facts += line(headers.get(name));
    }
  }
  return facts;
}

const PREFLIGHT_HEADERS = [
  "access-control-request-method",
  "access-control-request-headers",
  "access-control-request-private-network",
];

function line(value) {
  return value === null ? "\n-" : `\n+${value}`;
}

/** The value of the request's header `name`, or null. */
export function header(request, name) {
  return request.headers.get(name);
}

/** A response made here, empty, with the headers that `edits` sets. */
export function respond(status, edits) {
  // Set one by one: workerd converts a list or record of headers given to
  // the constructor several times more slowly (perf, 2026-12-05).
  const response = new Response(null, { status });
  applyEdits(response.headers, edits);
  return response;
}

/**
 * Sends `request`'s method, headers and body to `url`, redirects not
 * followed (given the Request itself as the init, workerd would also
 * deep-copy its `cf` object, of no use to the upstream). Without an
 * `editor`, the upstream's answer comes back as it is. With one, the answer
 * is rebuilt with the header edits that `editor(policy, allowOrigin, lines)`
 * returns for the upstream's header lines (`name\nvalue\n` each). An accepted
 * WebSocket upgrade (101) always comes back as it is: its `webSocket` is the
 * connection, which a rebuilt Response would drop. An unreachable upstream
 * is answered 502, edited like any answer.
 */
export function forward(url, request, editor, policy, allowOrigin) {
  const sent = fetch(url, {
    method: request.method,
    headers: request.headers,
    body: request.body,
    redirect: "manual",
  });
  const failed = (error) => {
    console.error(`forwarding to ${url} failed: ${error}`);
    return respond(502, editor ? editor(policy, allowOrigin, "") : "");
  };
  if (!editor) {
    return sent.catch(failed);
  }
  return sent.then((upstream) => {
    if (upstream.status === 101) {
      return upstream;
    }
    let lines = "";
    for (const [name, value] of upstream.headers) {
      lines += `${name}\n${value}\n`;
    }
    const edits = editor(policy, allowOrigin, lines);
    // A fetched response's headers are immutable. One made with it as the
    // init copies its status, status text and every header line, repeated
    // Set-Cookie included, into headers that can be changed.
    const response = new Response(upstream.body, upstream);
    applyEdits(response.headers, edits);
    return response;
  }, failed);
}

/**
 * Applies header edits written as lines: `-name` deletes `name`; `+name`
 * followed by a line with the value sets it.
 */
function applyEdits(headers, edits) {
  const lines = edits.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line[0] === "-") {
      headers.delete(line.slice(1));
    } else if (line[0] === "+") {
      headers.set(line.slice(1), lines[++i]);
    }
  }
}
