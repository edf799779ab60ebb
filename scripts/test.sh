#!/usr/bin/env bash
# Runs every test of the project, from a fresh machine: installs the tools
# (scripts/setup.sh), checks formatting and lints, builds the core for a real
# no_std target, builds the Envoy module and the Worker, then runs the core's
# tests, the shared vectors and hostile traffic through real Envoy and real
# workerd, checks the deploy kits and the release artifacts, and runs the
# browser tests in headless Chromium.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS="${CORS_TOOLS_DIR:-$HOME/.cache/cors-filter-tools}"
cd "$ROOT"

step() {
  echo
  echo "==> $*"
}

step "install tools"
scripts/setup.sh
# shellcheck source=/dev/null
source "$TOOLS/env.sh"

step "format and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "filter-core builds without std (thumbv7em-none-eabihf)"
cargo build --quiet -p filter-core --target thumbv7em-none-eabihf

step "build the Envoy module and the Worker"
scripts/build-wasm.sh

step "cargo test: core rules, properties, vectors; Envoy and workerd end to end; operator CLI"
cargo test --workspace

step "deploy kits: envoy --mode validate, Istio's CRD schema, wrangler dry runs"
"$TOOLS/venv/bin/python" scripts/validate-deploy.py

step "release artifacts: build them, then read them back (sha256sum, skopeo)"
scripts/release.sh
scripts/check-release.sh

step "browser: headless Chromium against Envoy and the Worker"
node --test tests/browser/

step "benchmarks compile and run once"
cargo test --quiet -p filter-core --benches
