#!/usr/bin/env bash
# Fuzzes filter-core: runs each cargo-fuzz target in filter-core/fuzz for RUNS
# executions (default 10,000,000), one after another, each starting from its
# seeds (filter-core/fuzz/seeds/<target>/) copied into a throwaway corpus, and
# prints executions and exec/s per target. FUZZ_MAX_TIME (seconds, default
# 1800) stops a target that is much slower than expected (config, the slowest,
# runs about 10,000 exec/s on one core). A crash is saved under
# filter-core/fuzz/artifacts/<target>/; the script then fails.
#
# Installs what it needs first (a nightly compiler and cargo-fuzz:
# `scripts/setup.sh fuzz`).
set -euo pipefail

RUNS="${1:-10000000}"
MAX_TIME="${FUZZ_MAX_TIME:-1800}"
# FUZZ_TARGETS (space-separated) runs only those targets.
read -r -a TARGETS <<<"${FUZZ_TARGETS:-config origin request_headers decision path}"
cd "$(dirname "${BASH_SOURCE[0]}")/../filter-core"
../scripts/setup.sh fuzz

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Debug assertions on: an integer overflow is a finding too.
cargo +nightly fuzz build --debug-assertions

failed=()
results=()
for target in "${TARGETS[@]}"; do
  mkdir -p "$work/$target"
  cp fuzz/seeds/"$target"/* "$work/$target/"
  args=(-runs="$RUNS" -max_total_time="$MAX_TIME" -print_final_stats=1)
  if [[ -f fuzz/$target.dict ]]; then
    args+=(-dict="fuzz/$target.dict")
  fi
  echo "==> $target: $RUNS runs (at most ${MAX_TIME}s)"
  log="$work/$target.log"
  if ! cargo +nightly fuzz run --debug-assertions "$target" "$work/$target" -- "${args[@]}" 2>"$log"; then
    tail -n 40 "$log"
    failed+=("$target")
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  results+=("$(printf '%-16s %12s executions %9s exec/s' "$target" "${execs:-?}" "${rate:-?}")")
done

echo
printf '%s\n' "${results[@]}"
if ((${#failed[@]})); then
  echo "crashed: ${failed[*]} (inputs under filter-core/fuzz/artifacts/)" >&2
  exit 1
fi
