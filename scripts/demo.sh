#!/usr/bin/env bash
# The README's first command: builds the Envoy module and runs Envoy with the
# filter of deploy/envoy/envoy.yaml on 127.0.0.1:8080 in front of a demo
# upstream on 127.0.0.1:8081, then prints requests to try. Ctrl-C stops
# everything.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS="${CORS_TOOLS_DIR:-$HOME/.cache/cors-filter-tools}"
LISTEN=8080 ADMIN=9901 UPSTREAM=8081
cd "$ROOT"

scripts/setup.sh envoy
# shellcheck source=/dev/null
source "$TOOLS/env.sh"
scripts/build-wasm.sh envoy

for port in $LISTEN $ADMIN $UPSTREAM; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "error: 127.0.0.1:$port is already in use (an earlier demo still running?)" >&2
    exit 1
  fi
done

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

python3 scripts/demo-upstream.py "$UPSTREAM" 2>"$work/upstream.log" &
pids+=($!)

# The bootstrap comes from the e2e harness's one Envoy generator (the `serve`
# binary); the filter, its plugin JSON and the path settings are taken from
# deploy/envoy/envoy.yaml, so the demo runs the filter as users copy it.
cargo build --quiet -p e2e --bin serve
"${CARGO_TARGET_DIR:-$ROOT/target}/debug/serve" envoy-config --deploy-kit deploy/envoy/envoy.yaml \
  --module "$ROOT/target/envoy-filter.wasm" --upstream "127.0.0.1:$UPSTREAM" \
  --port "$LISTEN" --admin-port "$ADMIN" >"$work/envoy.json"
"$ENVOY_BIN" -c "$work/envoy.json" --concurrency 1 --disable-hot-restart \
  --log-level warning --log-path "$work/envoy.log" >"$work/access.log" &
envoy_pid=$!
pids+=("$envoy_pid")
until curl -sf "http://127.0.0.1:$ADMIN/ready" >/dev/null 2>&1; do
  if ! kill -0 "$envoy_pid" 2>/dev/null; then
    echo "error: Envoy exited; its log:" >&2
    cat "$work/envoy.log" >&2
    exit 1
  fi
  sleep 0.1
done

cat <<MSG

Envoy is serving on http://127.0.0.1:$LISTEN with the CORS filter, in front of
the demo upstream on 127.0.0.1:$UPSTREAM. The policies are the plugin JSON in
deploy/envoy/envoy.yaml. Try:

  # a preflight from an allowed origin: 204, answered by Envoy, never forwarded
  curl -si -X OPTIONS http://127.0.0.1:$LISTEN/api/orders -H 'Host: api.example.com' \\
       -H 'Origin: https://app.example.com' -H 'Access-Control-Request-Method: PUT' \\
       -H 'Access-Control-Request-Headers: content-type,x-csrf-token'

  # the same from an origin that is not allowed: 403, no Access-Control-Allow-* header
  curl -si -X OPTIONS http://127.0.0.1:$LISTEN/api/orders -H 'Host: api.example.com' \\
       -H 'Origin: https://evil.example.net' -H 'Access-Control-Request-Method: PUT'

  # an actual request: forwarded; the answer carries the origin, credentials, exposed headers and Vary
  curl -si http://127.0.0.1:$LISTEN/api/orders -H 'Host: api.example.com' -H 'Origin: https://a.b.example.com'

  # the public API allows any origin
  curl -si http://127.0.0.1:$LISTEN/public/status -H 'Origin: https://anyone.example.org'

  # the filter's counters, per policy and outcome
  curl -s http://127.0.0.1:$ADMIN/stats/prometheus | grep "^cors_"

Logs: $work/envoy.log (Envoy), $work/upstream.log (what reached the upstream).
Ctrl-C stops Envoy and the upstream.
MSG
wait "$envoy_pid"
