#!/usr/bin/env bash
# Size and speed of the built Worker (cloudflare-worker/build/, or
# $CLOUDFLARE_WORKER_BUILD as for the e2e tests), side by side under real
# workerd with two JS Workers on the same requests:
#   ours  the Rust Worker (cloudflare-worker/worker.js and the build),
#         CORS_CONFIG = scripts/bench/policy.json
#   hono  Hono's `cors` middleware with the same policy (scripts/bench/hono-worker.mjs)
#   hand  the same policy hand-written in a few lines of JS for these three
#         requests only (scripts/bench/hand-worker.mjs): the least a CORS
#         Worker can do, the Response rebuilt and the header calls
#   bare  a Worker that answers OPTIONS with a bare 204 and forwards the rest:
#         the floor, what any Worker in front of the origin costs
# Each runs in its own workerd, with the origin server as a second Worker in
# that workerd (scripts/bench/upstream-worker.mjs) bound as its global
# outbound: forwarding crosses no socket, and the upstream's small, equal cost
# is in every Worker's numbers.
#
# The requests (scripts/bench/requests.lua): an allowed preflight, a denied
# preflight, and an allowed GET that goes to the upstream. A short warm-up
# first checks every answer (status and CORS headers), so only right answers
# are measured. Then rounds of wrk, interleaved (ours, hono, hand, bare, ours, ...)
# so that noise from other processes spreads over all four; the table shows
# medians over rounds, and ratios taken within each round. CPU per request is
# workerd's user+system time (/proc/PID/stat) over a run, divided by the
# requests wrk completed. With two or more cores, workerd runs on core 0 and
# wrk on core 1. The sizes come first: the .wasm, and what
# `wrangler deploy --dry-run` would upload.
#
# Everything listens on 127.0.0.1 only; every process started here is stopped
# on exit. Needs scripts/setup.sh and scripts/build-wasm.sh worker; builds the
# e2e crate's `serve` binary, whose workerd config generator the tests use too.
#
# Usage: scripts/bench-worker.sh [--rounds N] [--duration SECONDS] [--connections N]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS="${CORS_TOOLS_DIR:-$HOME/.cache/cors-filter-tools}"
BENCH="$ROOT/scripts/bench"
BUILD="${CLOUDFLARE_WORKER_BUILD:-$ROOT/cloudflare-worker/build}"
# The compatibility date of deploy/cloudflare/wrangler.toml and the e2e tests
# (tests/src/workerd.rs), for the upload-size check.
COMPATIBILITY_DATE=2026-05-03
WORKERS=(ours hono hand bare)
KINDS=(preflight-allowed preflight-denied get-allowed)

rounds=5
duration=5
connections=8

usage() {
  echo "usage: $0 [--rounds N] [--duration SECONDS] [--connections N]" >&2
  exit 2
}
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=${2:-} ;;
    --duration) duration=${2:-} ;;
    --connections) connections=${2:-} ;;
    *) usage ;;
  esac
  [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || usage
  shift 2
done

if [ ! -f "$TOOLS/env.sh" ]; then
  echo "error: $TOOLS/env.sh not found; run scripts/setup.sh first" >&2
  exit 1
fi
# shellcheck source=/dev/null
source "$TOOLS/env.sh"
for file in index.js index_bg.wasm; do
  if [ ! -f "$BUILD/$file" ]; then
    echo "error: $BUILD/$file not found; run scripts/build-wasm.sh worker" >&2
    exit 1
  fi
done
for tool in wrk gnuplot; do
  command -v "$tool" >/dev/null || { echo "error: $tool not found: run scripts/setup.sh bench" >&2; exit 1; }
done

# workerd on one core, wrk on another, when there are two.
if [ "$(nproc)" -ge 2 ]; then
  on_server=(taskset -c 0)
  on_client=(taskset -c 1)
else
  on_server=()
  on_client=()
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-worker.XXXXXX")
declare -A pid port
cleanup() {
  local name
  for name in "${!pid[@]}"; do
    kill "${pid[$name]}" 2>/dev/null || true
    wait "${pid[$name]}" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

size() { stat -c %s "$1"; }
gzip_size() { gzip -9 -c "$1" | wc -c; }

# The "Total Upload" line of `wrangler deploy --dry-run` for a Worker whose
# entry module is DIR/ENTRY.
upload_size() {
  local dir=$1 entry=$2
  printf 'name = "cors-filter-bench"\nmain = "%s"\ncompatibility_date = "%s"\n' \
    "$entry" "$COMPATIBILITY_DATE" >"$dir/wrangler.toml"
  (cd "$dir" && WRANGLER_LOG_PATH="$WORK/wrangler-logs" timeout 120 "$WRANGLER_BIN" deploy \
    --dry-run --outdir "$dir/dry-run" -c "$dir/wrangler.toml" 2>&1) |
    grep -o 'Total Upload: .*' || echo "(wrangler printed no Total Upload)"
}

# Each Worker's directory: its modules, the policy, the upstream, and a
# workerd config (embedded files are found relative to it).
mkdir -p "$WORK"/{ours,hono,hand,bare}
mkdir -p "$WORK/ours/build"
cp "$BUILD/index.js" "$BUILD/index_bg.wasm" "$WORK/ours/build/"
cp "$ROOT/cloudflare-worker/worker.js" "$WORK/ours/"
"$ESBUILD_BIN" "$BENCH/hono-worker.mjs" --bundle --format=esm --minify --log-level=warning \
  --outfile="$WORK/hono/hono.mjs"
cp "$BENCH/hand-worker.mjs" "$WORK/hand/hand.mjs"
cp "$BENCH/bare-worker.mjs" "$WORK/bare/bare.mjs"

echo "== sizes"
printf '%-44s %9s bytes, gzip -9 %8s\n' \
  "ours: build/index_bg.wasm" "$(size "$BUILD/index_bg.wasm")" "$(gzip_size "$BUILD/index_bg.wasm")" \
  "ours: build/index.js" "$(size "$BUILD/index.js")" "$(gzip_size "$BUILD/index.js")" \
  "hono: bundle (esbuild --minify)" "$(size "$WORK/hono/hono.mjs")" "$(gzip_size "$WORK/hono/hono.mjs")"
printf '%-44s %s\n' \
  "ours: wrangler deploy --dry-run" "$(upload_size "$WORK/ours" worker.js)" \
  "hono: wrangler deploy --dry-run" "$(upload_size "$WORK/hono" hono.mjs)"

# modules NAME: the `serve workerd-config` options naming NAME's modules.
modules() {
  case "$1" in
    ours) echo --es-module worker.js --es-module build/index.js --wasm-module build/index_bg.wasm ;;
    hono) echo --es-module hono.mjs ;;
    hand) echo --es-module hand.mjs ;;
    bare) echo --es-module bare.mjs ;;
  esac
}

# The configs come from the e2e harness's one workerd generator.
cargo build --quiet --manifest-path "$ROOT/Cargo.toml" -p e2e --bin serve
SERVE="${CARGO_TARGET_DIR:-$ROOT/target}/debug/serve"

# Starts NAME's workerd on 127.0.0.1 and a port of its choosing, which it
# reports on its control descriptor; sets pid[NAME] and port[NAME].
start_workerd() {
  local name=$1 dir="$WORK/$1" deadline
  cp "$BENCH/policy.json" "$dir/policy.json"
  cp "$BENCH/upstream-worker.mjs" "$dir/upstream.mjs"
  # shellcheck disable=SC2046 # modules prints several words on purpose
  "$SERVE" workerd-config $(modules "$name") --text-file-binding CORS_CONFIG=policy.json \
    --text-binding ORIGIN_URL=http://upstream.internal --outbound-worker upstream.mjs \
    >"$dir/workerd.capnp"
  "${on_server[@]}" "$WORKERD_BIN" serve "$dir/workerd.capnp" --control-fd 3 \
    3>"$dir/control" >"$dir/log" 2>&1 </dev/null &
  pid[$name]=$!
  deadline=$((SECONDS + 30))
  until grep -q '"event":"listen"' "$dir/control" 2>/dev/null; do
    if ! kill -0 "${pid[$name]}" 2>/dev/null || [ $SECONDS -gt $deadline ]; then
      echo "error: workerd for $name did not start:" >&2
      cat "$dir/log" >&2
      exit 1
    fi
    sleep 0.05
  done
  port[$name]=$(grep -o '"port":[0-9]*' "$dir/control" | head -1 | cut -d: -f2)
}

# The CPU time, in clock ticks, that process PID has used (utime + stime: the
# 14th and 15th fields of /proc/PID/stat; the 2nd, the name, is in brackets).
cpu_ticks() {
  sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

# run NAME KIND SECONDS [CHECK]: one wrk run; prints wrk's result line.
run() {
  local name=$1 kind=$2 seconds=$3
  shift 3
  "${on_client[@]}" timeout $((seconds + 30)) wrk -t1 -c"$connections" -d"${seconds}s" \
    --timeout 5s -s "$BENCH/requests.lua" "http://127.0.0.1:${port[$name]}/api/items" \
    -- "$kind" "$@" | grep '^result '
}

# field LINE NAME: the value of NAME=... in a result line.
field() { sed -n "s/.* $2=\([0-9]*\).*/\1/p" <<<"$1"; }

for name in "${WORKERS[@]}"; do
  start_workerd "$name"
done

echo
echo "== warm-up: every answer checked (1 s per Worker and request)"
for kind in "${KINDS[@]}"; do
  for name in "${WORKERS[@]}"; do
    check=cors
    [ "$name" = bare ] && check=bare
    line=$(run "$name" "$kind" 1 "$check")
    if [ "$(field "$line" requests)" -eq 0 ] || [ "$(field "$line" failures)" -ne 0 ] ||
      [ "$(field "$line" socket_errors)" -ne 0 ]; then
      echo "error: $name answered $kind wrongly: $line" >&2
      echo "its workerd log:" >&2
      tail -20 "$WORK/$name/log" >&2
      exit 1
    fi
    printf '  %-18s %-5s %7d answers, all right\n' "$kind" "$name" "$(field "$line" requests)"
  done
done

echo
echo "== $rounds rounds of ${duration} s, wrk -t1 -c$connections"
tick=$(getconf CLK_TCK)
results="$WORK/results"
for round in $(seq "$rounds"); do
  for kind in "${KINDS[@]}"; do
    for name in "${WORKERS[@]}"; do
      before=$(cpu_ticks "${pid[$name]}")
      line=$(run "$name" "$kind" "$duration")
      after=$(cpu_ticks "${pid[$name]}")
      errors=$(field "$line" socket_errors)
      if [ "$errors" -ne 0 ]; then
        echo "warning: $errors socket errors: $name $kind round $round" >&2
      fi
      # round kind name req/s CPU-µs/request
      awk -v round="$round" -v kind="$kind" -v name="$name" -v hz="$tick" \
        -v requests="$(field "$line" requests)" -v us="$(field "$line" duration_us)" \
        -v ticks=$((after - before)) 'BEGIN {
          printf "%d %s %s %.0f %.1f\n", round, kind, name, requests / us * 1e6, ticks * 1e6 / hz / requests
        }' | tee -a "$results" |
        awk '{ printf "  round %s  %-18s %-5s %8s req/s %7s µs/req\n", $1, $2, $3, $4, $5 }'
    done
  done
done

# The table: medians over rounds. A ratio is taken within each round, between
# runs a few seconds apart, and then its median: load from other processes
# moves all four Workers' numbers together, and mostly cancels out.
echo
echo "== medians over $rounds rounds (ratios: CPU per request, per round, then the median)"
awk -v kinds="${KINDS[*]}" -v names="${WORKERS[*]}" '
  function median(list,   v, n, i, j, t) {
    n = split(list, v, " ")
    for (i = 2; i <= n; i++)
      for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
  }
  { rps[$2, $3] = rps[$2, $3] " " $4; cpu[$2, $3] = cpu[$2, $3] " " $5; at[$1, $2, $3] = $5; last = $1 }
  END {
    split(kinds, kind, " "); split(names, name, " ")
    printf "%-18s %-5s %9s %11s %10s %10s %10s   %s\n", "request", "worker", "req/s", "CPU µs/req", "ours/hono", "ours/bare", "hand/hono", "µs over bare: ours / hand / hono"
    for (k = 1; k in kind; k++) {
      for (n = 1; n in name; n++)
        printf "%-18s %-5s %9.0f %11.1f\n", kind[k], name[n], median(rps[kind[k], name[n]]), median(cpu[kind[k], name[n]])
      to_hono = to_bare = hand_hono = ""
      for (r = 1; r <= last; r++) {
        to_hono = to_hono " " at[r, kind[k], "ours"] / at[r, kind[k], "hono"]
        to_bare = to_bare " " at[r, kind[k], "ours"] / at[r, kind[k], "bare"]
        hand_hono = hand_hono " " at[r, kind[k], "hand"] / at[r, kind[k], "hono"]
      }
      floor = median(cpu[kind[k], "bare"])
      printf "%-18s %-5s %9s %11s %10.2f %10.2f %10.2f %10.1f / %.1f / %.1f\n", kind[k], "ratio", "", "",
        median(to_hono), median(to_bare), median(hand_hono), median(cpu[kind[k], "ours"]) - floor,
        median(cpu[kind[k], "hand"]) - floor, median(cpu[kind[k], "hono"]) - floor
    }
  }' "$results"
echo "target: ours/hono <= 0.80 for every request"

# The chart BENCHMARKS.md links: CPU per request, each bar a median of rounds.
awk -v OFS='\t' '{ print $2, $3, $5 }' "$results" |
  python3 "$BENCH/chart.py" "$ROOT/docs/bench/worker-cpu.svg" \
    --title "Worker under workerd: CPU per request (median of $rounds rounds)" \
    --ylabel "workerd CPU µs per request"
echo "chart: docs/bench/worker-cpu.svg"
