#!/usr/bin/env python3
"""Checks the deploy kits under deploy/ against the real tools and the real module.

Run after scripts/setup.sh and scripts/build-wasm.sh, with env.sh sourced and
the tools venv's Python (it has PyYAML):
    source ~/.cache/cors-filter-tools/env.sh
    ~/.cache/cors-filter-tools/venv/bin/python scripts/validate-deploy.py

- Envoy: both configs pass `envoy --mode validate` with target/envoy-filter.wasm,
  which loads the module and runs its config check on the plugin JSON.
  (For envoy-remote.yaml Envoy does not download the module in validate mode,
  so that run checks the file's structure only.)
- The Envoy configs and the Istio WasmPlugin carry the same policy.
- Istio: the WasmPlugin's pluginConfig, with every number turned into a float as
  Istio sends it, is accepted by the module.
- Cloudflare: each environment's CORS_CONFIG is accepted by the module, and
  `wrangler deploy --dry-run` packages each environment with the built Worker.
"""

import copy
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
MODULE = ROOT / "target" / "envoy-filter.wasm"
WORKER_BUILD = ROOT / "cloudflare-worker" / "build"

failures = []


def check(what, ok, detail=""):
    print(f"{'ok  ' if ok else 'FAIL'} {what}")
    if not ok:
        failures.append(what)
        if detail:
            print("     " + detail.strip().replace("\n", "\n     "))


def envoy_config(name, **placeholders):
    """An Envoy kit file with its @PLACEHOLDERS@ filled in, parsed."""
    text = (DEPLOY / "envoy" / name).read_text()
    for key, value in placeholders.items():
        text = text.replace(f"@{key}@", value)
    return yaml.safe_load(text)


def wasm_filter(config):
    """The envoy.filters.http.wasm entry of a parsed Envoy config."""
    hcm = config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
    (wasm,) = [f for f in hcm["typed_config"]["http_filters"] if f["name"] == "envoy.filters.http.wasm"]
    return wasm["typed_config"]["config"]


def envoy_validate(config, tmp):
    """Runs `envoy --mode validate` on a parsed config: (ok, log)."""
    path = Path(tmp) / "envoy.yaml"
    path.write_text(yaml.safe_dump(config))
    run = subprocess.run(
        [os.environ["ENVOY_BIN"], "--mode", "validate", "-c", str(path), "-l", "error"],
        capture_output=True,
        text=True,
    )
    return run.returncode == 0, run.stdout + run.stderr


def with_plugin_json(config, plugin):
    """A copy of an Envoy config whose wasm filter carries another plugin JSON."""
    config = copy.deepcopy(config)
    wasm_filter(config)["configuration"]["value"] = json.dumps(plugin)
    return config


def as_floats(value):
    """A protobuf Struct holds every number as a double; Istio passes them on so."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, dict):
        return {k: as_floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_floats(v) for v in value]
    return value


def main():
    for var in ("ENVOY_BIN", "WRANGLER_BIN"):
        if var not in os.environ:
            sys.exit(f"{var} is not set: source the env.sh that scripts/setup.sh writes")
    for artifact in (MODULE, WORKER_BUILD / "index.js"):
        if not artifact.exists():
            sys.exit(f"{artifact} is missing: run scripts/build-wasm.sh")

    with tempfile.TemporaryDirectory() as tmp:
        # --- Envoy ---------------------------------------------------------
        local = envoy_config("envoy.yaml", WASM_PATH=str(MODULE), UPSTREAM_PORT="8081")
        remote = envoy_config(
            "envoy-remote.yaml",
            MODULE_PORT="8082",
            WASM_SHA256=hashlib.sha256(MODULE.read_bytes()).hexdigest(),
            UPSTREAM_PORT="8081",
        )
        check("deploy/envoy/envoy.yaml: envoy --mode validate", *envoy_validate(local, tmp))
        check("deploy/envoy/envoy-remote.yaml: envoy --mode validate", *envoy_validate(remote, tmp))
        policy = json.loads(wasm_filter(local)["configuration"]["value"])
        check(
            "envoy-remote.yaml carries envoy.yaml's plugin JSON",
            json.loads(wasm_filter(remote)["configuration"]["value"]) == policy,
        )

        # --- Istio ---------------------------------------------------------
        plugin = yaml.safe_load((DEPLOY / "istio" / "wasmplugin.yaml").read_text())
        check(
            "deploy/istio/wasmplugin.yaml: a WasmPlugin in phase AUTHN",
            plugin["apiVersion"] == "extensions.istio.io/v1alpha1"
            and plugin["kind"] == "WasmPlugin"
            and plugin["spec"]["phase"] == "AUTHN",
        )
        istio_config = plugin["spec"]["pluginConfig"]
        check("wasmplugin.yaml carries envoy.yaml's plugin JSON", istio_config == policy)
        check(
            "wasmplugin.yaml pluginConfig, numbers as floats, accepted by the module",
            *envoy_validate(with_plugin_json(local, as_floats(istio_config)), tmp),
        )

        # --- Cloudflare ----------------------------------------------------
        wrangler_toml = (DEPLOY / "cloudflare" / "wrangler.toml").read_text()
        environments = tomllib.loads(wrangler_toml)["env"]
        # The kit builds with worker-build; here the Worker is already built,
        # so package the existing build/ without the [build] step.
        kit = Path(tmp) / "worker"
        shutil.copytree(WORKER_BUILD, kit / "build")
        without_build = re.sub(r"^\[build\]\n(?:\w.*\n)*", "", wrangler_toml, flags=re.M)
        (kit / "wrangler.toml").write_text(without_build)
        for name, env in environments.items():
            check(
                f"wrangler.toml [env.{name}] CORS_CONFIG accepted by the module",
                *envoy_validate(with_plugin_json(local, env["vars"]["CORS_CONFIG"]), tmp),
            )
            run = subprocess.run(
                [os.environ["WRANGLER_BIN"], "deploy", "--dry-run", "--env", name,
                 "--outdir", str(Path(tmp) / f"out-{name}")],
                cwd=kit,
                capture_output=True,
                text=True,
            )
            check(f"wrangler deploy --dry-run --env {name}", run.returncode == 0, run.stdout + run.stderr)

    if failures:
        sys.exit(f"{len(failures)} deploy check(s) failed")


if __name__ == "__main__":
    main()
