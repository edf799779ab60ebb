#!/usr/bin/env bash
# Builds the two deployable artifacts:
#   envoy   target/envoy-filter.wasm       the proxy-wasm module (Envoy, Istio)
#   worker  cloudflare-worker/build/       the Cloudflare Worker (index.js + index_bg.wasm)
# Usage: scripts/build-wasm.sh [envoy|worker]    (no argument: both)
# Needs the tools from scripts/setup.sh.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS="${CORS_TOOLS_DIR:-$HOME/.cache/cors-filter-tools}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

if [ ! -f "$TOOLS/env.sh" ]; then
  echo "error: $TOOLS/env.sh not found; run scripts/setup.sh first" >&2
  exit 1
fi
# shellcheck source=/dev/null
source "$TOOLS/env.sh"

size() { stat -c %s "$1"; }

build_envoy() {
  # The `wasm` profile (workspace Cargo.toml) is release with opt-level "z" and
  # strip = true: the smallest module, which Envoy loads into every worker VM.
  # Panic messages name the source file; without the registry's directory
  # (`serde_json-1.0.154/src/read.rs`) the module is 712 bytes smaller.
  local remap="" index
  for index in "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/; do
    remap+=" --remap-path-prefix=$index="
  done
  RUSTFLAGS="${RUSTFLAGS:-}$remap" \
    cargo build --manifest-path "$ROOT/Cargo.toml" --profile wasm -p envoy-filter \
    --target wasm32-unknown-unknown
  local raw="$TARGET_DIR/wasm32-unknown-unknown/wasm/envoy_filter.wasm"
  local out="$TARGET_DIR/envoy-filter.wasm"
  # strip = true also drops the `target_features` section, so wasm-opt cannot
  # see which features rustc used and must be told; the list is what rustc
  # enables by default for wasm32-unknown-unknown.
  # --converge repeats -Oz until the module stops shrinking: about 450
  # bytes more, a few seconds more. (-Os, and opt-level "s", are larger.)
  "$WASM_OPT_BIN" -Oz --converge \
    --enable-bulk-memory --enable-bulk-memory-opt --enable-sign-ext \
    --enable-mutable-globals --enable-nontrapping-float-to-int \
    --enable-multivalue --enable-reference-types \
    "$raw" -o "$out"
  echo "envoy-filter: $(size "$raw") bytes from cargo, $(size "$out") bytes after wasm-opt -Oz --converge: $out"
}

build_worker() {
  # worker-build reads WASM_BINDGEN_BIN, WASM_OPT_BIN and ESBUILD_BIN (from
  # env.sh); without them it tries to download the tools from GitHub.
  (cd "$ROOT/cloudflare-worker" && worker-build --release)
  local wasm="$ROOT/cloudflare-worker/build/index_bg.wasm"
  echo "cloudflare-worker: $(size "$wasm") bytes: $wasm"
}

case "${1:-all}" in
  envoy) build_envoy ;;
  worker) build_worker ;;
  all)
    build_envoy
    build_worker
    ;;
  *)
    echo "usage: $0 [envoy|worker]" >&2
    exit 2
    ;;
esac
