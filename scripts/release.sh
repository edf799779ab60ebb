#!/usr/bin/env bash
# Builds the release artifacts, without Docker, into OUT_DIR (default
# target/dist):
#   envoy-filter.wasm, .sha256          the proxy-wasm module (Envoy, Istio)
#   cors-filter-VERSION.oci.tar, .sha256
#                                       an OCI image archive of the module for
#                                       Istio's WasmPlugin: one layer holding
#                                       plugin.wasm (Istio's Wasm image
#                                       format, Docker-compatible variant)
#   cors-filter-worker-VERSION.tar.gz, .sha256
#                                       the Cloudflare Worker bundle, as
#                                       `wrangler deploy --dry-run --outdir`
#                                       writes it
# and prints each artifact's size and SHA-256, and the image digest to pin in
# deploy/istio/wasmplugin*.yaml (@IMAGE_DIGEST@).
#
# umoci builds the image in an OCI layout and skopeo writes it as an archive
# (Debian packages; scripts/setup.sh installs them). To publish the image:
#   skopeo copy oci-archive:target/dist/cors-filter-VERSION.oci.tar \
#     docker://registry.example.com/edge/cors-filter:VERSION
# The digest stays the same: skopeo copies the blobs as they are.
#
# Usage: scripts/release.sh [OUT_DIR]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS="${CORS_TOOLS_DIR:-$HOME/.cache/cors-filter-tools}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
OUT=$(realpath -m "${1:-$TARGET_DIR/dist}")
# shellcheck source=/dev/null
source "$TOOLS/env.sh"
for tool in umoci skopeo; do
  command -v "$tool" >/dev/null || { echo "error: $tool not found; run scripts/setup.sh" >&2; exit 1; }
done

# The module's version (its configure log line says the same).
VERSION=$(cargo pkgid --manifest-path "$ROOT/Cargo.toml" -p envoy-filter | sed 's/.*[#@]//')
IMAGE="cors-filter-$VERSION.oci.tar"
BUNDLE="cors-filter-worker-$VERSION.tar.gz"
# Fixed times, so the same module always gives the same image digest. (The
# Worker bundle differs from run to run: wrangler writes the time into it.)
EPOCH=1970-01-01T00:00:00Z

"$ROOT/scripts/build-wasm.sh"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$OUT"
# Only this script's own files, in case OUT_DIR holds anything else.
rm -f "$OUT"/envoy-filter.wasm* "$OUT"/cors-filter-*

# 1. The module.
cp "$TARGET_DIR/envoy-filter.wasm" "$OUT/"
(cd "$OUT" && sha256sum envoy-filter.wasm >envoy-filter.wasm.sha256)

# 2. The image: an empty image, unpacked, the module put in as /plugin.wasm
#    (the name Istio looks for), packed again as its one layer. (`umoci
#    insert` would be shorter, but 0.4.7 writes that layer's tar without
#    its end-of-archive blocks.)
umoci init --layout "$WORK/layout"
umoci new --image "$WORK/layout:$VERSION"
umoci unpack --rootless --image "$WORK/layout:$VERSION" "$WORK/unpacked" >/dev/null
cp "$OUT/envoy-filter.wasm" "$WORK/unpacked/rootfs/plugin.wasm"
touch -d "$EPOCH" "$WORK/unpacked/rootfs/plugin.wasm" "$WORK/unpacked/rootfs"
umoci repack --image "$WORK/layout:$VERSION" --history.created "$EPOCH" \
  --history.created_by "scripts/release.sh: plugin.wasm" "$WORK/unpacked"
umoci config --image "$WORK/layout:$VERSION" --no-history --created "$EPOCH" \
  --os linux --architecture amd64 \
  --config.label "org.opencontainers.image.title=cors-filter" \
  --config.label "org.opencontainers.image.version=$VERSION" \
  --manifest.annotation "org.opencontainers.image.version=$VERSION"
umoci gc --layout "$WORK/layout"
skopeo copy --quiet "oci:$WORK/layout:$VERSION" "oci-archive:$OUT/$IMAGE:$VERSION"
DIGEST=$(skopeo inspect --format '{{.Digest}}' "oci-archive:$OUT/$IMAGE")

# 3. The Worker bundle: the kit's wrangler.toml without its [build] step
#    (build-wasm.sh built the Worker above), next to the entry module
#    worker.js (its `main`) and the build/ that worker.js imports.
mkdir -p "$WORK/worker"
cp -r "$ROOT/cloudflare-worker/build" "$WORK/worker/build"
cp "$ROOT/cloudflare-worker/worker.js" "$WORK/worker/"
sed '/^\[build\]$/,/^$/d' "$ROOT/deploy/cloudflare/wrangler.toml" >"$WORK/worker/wrangler.toml"
(cd "$WORK/worker" && "$WRANGLER_BIN" deploy --dry-run --outdir "$WORK/bundle" >"$WORK/wrangler.log" 2>&1) || {
  cat "$WORK/wrangler.log" >&2
  exit 1
}
tar --sort=name --mtime="$EPOCH" --owner=0 --group=0 --numeric-owner \
  -C "$WORK/bundle" -cf - . | gzip -n >"$OUT/$BUNDLE"

(cd "$OUT" && sha256sum "$IMAGE" >"$IMAGE.sha256" && sha256sum "$BUNDLE" >"$BUNDLE.sha256")

echo
echo "cors-filter $VERSION release artifacts in $OUT:"
for file in envoy-filter.wasm "$IMAGE" "$BUNDLE"; do
  printf '  %-36s %9s bytes  sha256:%s\n' "$file" "$(stat -c %s "$OUT/$file")" \
    "$(sha256sum "$OUT/$file" | cut -d' ' -f1)"
done
echo "  image digest: $DIGEST"
echo "  WasmPlugin url: oci://<registry>/cors-filter@$DIGEST"
