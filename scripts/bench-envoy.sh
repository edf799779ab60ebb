#!/usr/bin/env bash
# Benchmarks the Envoy module against Envoy with no CORS filter (the floor)
# and Envoy's native CORS filter with the same policy, under wrk, and writes
# BENCHMARKS.md. Variants are interleaved round after round in one run, and
# each cell is the median over rounds, so a noisy machine moves every variant
# alike. Timings here are figures, never a pass/fail test.
#
# Usage: scripts/bench-envoy.sh [--quick] [--no-build] [--out FILE]
#   --quick     1 round of 2 s per cell (about 3 minutes) instead of 3 x 4 s
#               (about 11 minutes on 2 CPUs)
#   --no-build  use target/envoy-filter.wasm as it is
#   --out FILE  write the report there instead of BENCHMARKS.md, and the
#               charts into docs/bench/ beside it
#
# Only 127.0.0.1, ports 19100-19121 (checked free first). The proxy Envoy
# under test runs on CPU 0, wrk and the upstream on CPU 1 (needs 2 CPUs).
# Needs `scripts/setup.sh bench` (Envoy, wrk, gnuplot). Configs, logs and
# raw results are kept in a temp directory (printed at the end).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS="${CORS_TOOLS_DIR:-$HOME/.cache/cors-filter-tools}"
# shellcheck source=/dev/null
source "$TOOLS/env.sh"
export ENVOY_BIN
# envoy_bench.py imports chart.py: keep __pycache__ out of the checkout.
export PYTHONDONTWRITEBYTECODE=1

STARTED=$(date +%s)
ROUNDS=3 SECONDS_PER=4 BUILD=1 OUT="$ROOT/BENCHMARKS.md"
COMMAND="scripts/bench-envoy.sh${*:+ $*}"
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) ROUNDS=1 SECONDS_PER=2 ;;
    --no-build) BUILD=0 ;;
    --out) OUT=$2; shift ;;
    *) echo "usage: $0 [--quick] [--no-build] [--out FILE]" >&2; exit 2 ;;
  esac
  shift
done
CONNECTIONS=16
BASE_PORT=19100
ORIGIN_COUNTS=(1 100 1000 10000)
PROXY_CPU=0
CLIENT_CPU=1
BENCH="$ROOT/scripts/bench/envoy_bench.py"
WASM="$ROOT/target/envoy-filter.wasm"

[ "$(nproc)" -ge 2 ] || { echo "error: needs 2 CPUs (proxy on one, wrk on the other)" >&2; exit 1; }
for tool in wrk gnuplot; do
  command -v "$tool" >/dev/null || { echo "error: $tool not found: run scripts/setup.sh bench" >&2; exit 1; }
done

if [ "$BUILD" = 1 ]; then
  "$ROOT/scripts/build-wasm.sh" envoy
fi
[ -f "$WASM" ] || { echo "error: $WASM missing: run scripts/build-wasm.sh envoy" >&2; exit 1; }

WORK=$(mktemp -d /tmp/bench-envoy.XXXXXX)
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Every bootstrap comes from the e2e harness's one Envoy generator.
cargo build --quiet --manifest-path "$ROOT/Cargo.toml" -p e2e --bin serve
export SERVE="${CARGO_TARGET_DIR:-$ROOT/target}/debug/serve"
mapfile -t NAMES < <(python3 "$BENCH" gen "$WORK" "$WASM" "$BASE_PORT" "${ORIGIN_COUNTS[@]}")
LAST_PORT=$((BASE_PORT + 2 * ${#NAMES[@]} - 1))
if ss -Htln "sport >= :$BASE_PORT and sport <= :$LAST_PORT" | grep -q .; then
  echo "error: a port in $BASE_PORT-$LAST_PORT is already in use" >&2
  exit 1
fi

# start NAME CPU: one Envoy, pinned, with its PID in $WORK/NAME.pid.
start() {
  local name=$1 cpu=$2
  taskset -c "$cpu" "$ENVOY_BIN" -c "$WORK/$name.json" --concurrency 1 --disable-hot-restart \
    --log-level warning --log-path "$WORK/$name.log" </dev/null >/dev/null 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  echo "$pid" >"$WORK/$name.pid"
}
admin_port() {
  python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); n=sys.argv[2]
print(m["upstream"]["admin"] if n == "upstream" else m["variants"][n]["admin"])' "$WORK/variants.json" "$1"
}
wait_ready() {
  local name=$1 port pid deadline=$((SECONDS + 60))
  port=$(admin_port "$name")
  pid=$(cat "$WORK/$name.pid")
  until curl -sf "http://127.0.0.1:$port/ready" >/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null || [ $SECONDS -gt $deadline ]; then
      echo "error: Envoy $name did not start; its log:" >&2
      cat "$WORK/$name.log" >&2
      exit 1
    fi
    sleep 0.1
  done
}

echo "starting ${#NAMES[@]} Envoys (configs in $WORK)"
for name in "${NAMES[@]}"; do
  if [ "$name" = upstream ]; then start "$name" "$CLIENT_CPU"; else start "$name" "$PROXY_CPU"; fi
done
for name in "${NAMES[@]}"; do wait_ready "$name"; done

echo "sanity check (status, ACAO, upstream reached) before timing:"
python3 "$BENCH" check "$WORK"

echo "benchmark: $ROUNDS round(s) x $SECONDS_PER s per cell, $CONNECTIONS connections"
python3 "$BENCH" run "$WORK" "$ROUNDS" "$SECONDS_PER" "$CONNECTIONS" "$CLIENT_CPU"
python3 "$BENCH" report "$WORK" "$OUT" "$COMMAND" "$STARTED"
echo "wrote $OUT; raw results in $WORK/results.jsonl"
