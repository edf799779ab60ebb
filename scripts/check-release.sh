#!/usr/bin/env bash
# Checks what scripts/release.sh wrote, with the tools a user would use:
# - every .sha256 file matches its artifact (sha256sum --check);
# - skopeo, a real OCI client, reads the image archive: one layer, a tar
#   whose only file is plugin.wasm, and that file is the module, byte for byte;
# - the Worker bundle holds the built Worker's script and its wasm.
# Usage: scripts/check-release.sh [OUT_DIR]   (default target/dist)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$(realpath "${1:-${CARGO_TARGET_DIR:-$ROOT/target}/dist}")
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

fail() {
  echo "FAIL $*" >&2
  exit 1
}
sha() { sha256sum "$1" | cut -d' ' -f1; }

cd "$OUT"
sha256sum --check --quiet ./*.sha256 || fail "a checksum does not match"
echo "ok   $(ls ./*.sha256 | wc -l) checksums match"

archive=$(ls cors-filter-*.oci.tar)
read -r -a layers <<<"$(skopeo inspect --format '{{range .Layers}}{{.}} {{end}}' "oci-archive:$archive")"
[ "${#layers[@]}" -eq 1 ] || fail "$archive: ${#layers[@]} layers, Istio wants 1"
skopeo copy --quiet "oci-archive:$archive" "oci:$WORK/layout:image"
layer="$WORK/layout/blobs/sha256/${layers[0]#sha256:}"
[ "sha256:$(sha "$layer")" = "${layers[0]}" ] || fail "$archive: the layer's bytes do not match its digest"
files=$(tar -tzvf "$layer" | awk '$1 !~ /^d/ {print $NF}')
[ "$files" = "plugin.wasm" ] || fail "$archive: the layer holds $(echo "$files" | tr '\n' ' '), not plugin.wasm alone"
tar -xzf "$layer" -C "$WORK" plugin.wasm
[ "$(sha "$WORK/plugin.wasm")" = "$(sha envoy-filter.wasm)" ] || fail "$archive: plugin.wasm is not envoy-filter.wasm"
echo "ok   $archive: skopeo reads one layer ${layers[0]}, holding plugin.wasm = envoy-filter.wasm (sha256:$(sha envoy-filter.wasm))"

bundle=$(ls cors-filter-worker-*.tar.gz)
mkdir "$WORK/bundle"
tar -xzf "$bundle" -C "$WORK/bundle"
# wrangler names the bundled script after the kit's `main`, worker.js.
[ -f "$WORK/bundle/worker.js" ] || fail "$bundle: no worker.js"
wasm=("$WORK"/bundle/*index_bg.wasm)
[ "${#wasm[@]}" -eq 1 ] && [ "$(sha "${wasm[0]}")" = "$(sha "$ROOT/cloudflare-worker/build/index_bg.wasm")" ] ||
  fail "$bundle: its wasm is not cloudflare-worker/build/index_bg.wasm"
echo "ok   $bundle: worker.js and the Worker's wasm"
