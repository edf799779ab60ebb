#!/usr/bin/env bash
# Soak: a million requests through Envoy running the module, at full speed,
# with wrk. Four requests in turn (allowed and denied preflights, allowed and
# rejected GETs), every answer's status and Access-Control-Allow-Origin
# checked in wrk's Lua (scripts/soak/soak.lua). Passes when no answer has an
# unexpected status or header, no socket error happened, no VM was replaced,
# the log has no panic or failure, and Envoy's resident memory grew by less
# than 5% from after a warm-up to the end.
#
# Usage: scripts/soak.sh [REQUESTS]    (default 1000000; about 2-3 min on 2 cores)
#
# Not part of `cargo test` (too long for it); the 100,000-request flood in
# tests/tests/envoy_flood.rs is. Envoy answers every request itself (a direct
# response stands in for the upstream), so the figures are the module's and
# Envoy's alone. Only 127.0.0.1, ports chosen by Envoy. Waits while another
# wrk is running (a benchmark would skew both). Needs the tools from
# `scripts/setup.sh bench` (it installs wrk), jq, and target/envoy-filter.wasm; builds the
# e2e crate's `serve` binary.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS="${CORS_TOOLS_DIR:-$HOME/.cache/cors-filter-tools}"
# shellcheck source=/dev/null
source "$TOOLS/env.sh"

REQUESTS=${1:-1000000}
WARM_UP=50000
THREADS=2
CONNECTIONS=16
MAX_GROWTH_PERCENT=5
WASM="$ROOT/target/envoy-filter.wasm"
LUA="$ROOT/scripts/soak/soak.lua"

for tool in wrk jq curl; do
  command -v "$tool" >/dev/null || { echo "error: $tool not found (scripts/setup.sh bench installs wrk)" >&2; exit 1; }
done
[ -f "$WASM" ] || { echo "error: $WASM missing: run scripts/build-wasm.sh envoy" >&2; exit 1; }

WORK=$(mktemp -d /tmp/soak.XXXXXX)
ENVOY_PID=
cleanup() {
  if [ -n "$ENVOY_PID" ]; then
    kill "$ENVOY_PID" 2>/dev/null || true
    wait "$ENVOY_PID" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The config comes from the e2e harness's one Envoy generator (the `serve`
# binary): the policy the hostile tests and floods are aimed at
# (tests/src/hostile.rs), in front of a direct response that, like an
# upstream might, sends its own CORS header for the module to replace.
cargo build --quiet --manifest-path "$ROOT/Cargo.toml" -p e2e --bin serve
SERVE="${CARGO_TARGET_DIR:-$ROOT/target}/debug/serve"
"$SERVE" hostile-config >"$WORK/policy.json"
"$SERVE" envoy-config --plugin-config "$WORK/policy.json" --module "$WASM" --stat-prefix soak \
  --direct-response $'{"items":[]}\n' --response-header vary=Accept-Encoding \
  --response-header access-control-allow-origin=https://upstream.example >"$WORK/envoy.json"

# Wait (up to 10 minutes) while someone else's wrk runs.
for _ in $(seq 30); do
  pgrep -x wrk >/dev/null || break
  echo "another wrk is running; waiting 20 s"
  sleep 20
done

# Envoy on CPU 0, wrk on CPU 1, when there are two.
PROXY_CPUS=0 CLIENT_CPUS=0
[ "$(nproc)" -ge 2 ] && CLIENT_CPUS=1
taskset -c "$PROXY_CPUS" "$ENVOY_BIN" -c "$WORK/envoy.json" --concurrency 1 --disable-hot-restart \
  --log-level info --log-path "$WORK/envoy.log" --admin-address-path "$WORK/admin" \
  </dev/null >/dev/null 2>&1 &
ENVOY_PID=$!
deadline=$((SECONDS + 60))
until [ -s "$WORK/admin" ] && curl -sf "http://$(cat "$WORK/admin")/ready" >/dev/null; do
  if ! kill -0 "$ENVOY_PID" 2>/dev/null || [ $SECONDS -gt $deadline ]; then
    echo "error: Envoy did not start; its log:" >&2
    cat "$WORK/envoy.log" >&2
    exit 1
  fi
  sleep 0.1
done
ADMIN="http://$(cat "$WORK/admin")"
LISTENER=$(curl -sf "$ADMIN/listeners?format=json" |
  jq -r '.listener_statuses[] | select(.name == "http") | .local_address.socket_address | "\(.address):\(.port_value)"')

# The most of five samples a tenth of a second apart, in KiB.
rss() {
  local max=0 now
  for _ in 1 2 3 4 5; do
    sleep 0.1
    now=$(awk '/^VmRSS:/ {print $2}' "/proc/$ENVOY_PID/status")
    [ "$now" -gt "$max" ] && max=$now
  done
  echo "$max"
}
vm_stats() {
  curl -sf "$ADMIN/stats" | grep -E '^wasm\.' | grep -v remote_load
}
# soak NAME REQUESTS: one wrk run; its result line in $WORK/NAME.result.
# Each wrk thread stops sending after its share, but wrk itself runs for its
# whole -d; so once Envoy has answered them all, SIGINT ends it early (wrk
# then prints its summary as at the end of -d).
soak() {
  local name=$1 total=$2 before wrk_pid deadline=$((SECONDS + 900))
  before=$(answered)
  taskset -c "$CLIENT_CPUS" wrk -t "$THREADS" -c "$CONNECTIONS" -d 900s --timeout 10s \
    -s "$LUA" "http://$LISTENER" -- $((total / THREADS)) >"$WORK/$name.out" &
  wrk_pid=$!
  while [ $(($(answered) - before)) -lt "$total" ] && kill -0 "$wrk_pid" 2>/dev/null &&
    [ $SECONDS -lt $deadline ]; do
    sleep 0.5
  done
  kill -INT "$wrk_pid" 2>/dev/null || true
  wait "$wrk_pid" || true
  grep '^result ' "$WORK/$name.out" >"$WORK/$name.result" ||
    { echo "error: wrk gave no result:" >&2; cat "$WORK/$name.out" >&2; exit 1; }
  cat "$WORK/$name.result"
}
# Requests Envoy has answered so far.
answered() {
  curl -sf "$ADMIN/stats?filter=^http\.soak\.downstream_rq_total$" | awk '{print $2}'
}
# field NAME KEY: a number from a result line.
field() {
  sed -n "s/.*\b$2=\([0-9]*\).*/\1/p" "$WORK/$1.result"
}

VM_BEFORE=$(vm_stats)
echo "warm-up: $WARM_UP requests"
soak warmup "$WARM_UP"
RSS_WARM=$(rss)
echo "soak: $REQUESTS requests, $THREADS threads, $CONNECTIONS connections"
soak main "$REQUESTS"
RSS_END=$(rss)
VM_AFTER=$(vm_stats)

failed=0
check() {
  if ! eval "$1"; then
    echo "FAIL: $2" >&2
    failed=1
  fi
}
for run in warmup main; do
  check "[ $(field $run other) -eq 0 ]" "$run: $(field $run other) answers with a status other than 200, 204, 403"
  check "[ $(field $run wrong) -eq 0 ]" "$run: $(field $run wrong) answers with a wrong Access-Control-Allow-Origin"
  check "[ $(field $run socket_errors) -eq 0 ]" "$run: $(field $run socket_errors) socket errors"
done
check "[ $(field main requests) -ge $REQUESTS ]" "only $(field main requests) of $REQUESTS requests answered"
check '[ "$VM_BEFORE" = "$VM_AFTER" ]' "a VM was replaced or reloaded: $VM_BEFORE -> $VM_AFTER"
check "! grep -E 'panicked|failed' '$WORK/envoy.log'" "the log has panic or failure lines"
check "[ $((RSS_END * 100)) -lt $((RSS_WARM * (100 + MAX_GROWTH_PERCENT))) ]" \
  "RSS grew from $RSS_WARM KiB to $RSS_END KiB, over $MAX_GROWTH_PERCENT%"

SECS=$(awk -v us="$(field main duration_us)" 'BEGIN {printf "%.1f", us / 1e6}')
RATE=$(awk -v n="$(field main requests)" -v us="$(field main duration_us)" 'BEGIN {printf "%.0f", n / (us / 1e6)}')
echo "soak: $(field main requests) requests in $SECS s ($RATE/s): 200 $(field main s200), 204 $(field main s204), 403 $(field main s403), other $(field main other)"
echo "Envoy RSS: $RSS_WARM KiB after warm-up, $RSS_END KiB at the end"
echo "logs and results in $WORK"
[ "$failed" = 0 ] && echo "soak passed" || { echo "soak FAILED" >&2; exit 1; }
