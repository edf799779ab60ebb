#!/usr/bin/env python3
"""Checks the deploy kits under deploy/ against the real tools and the real module.

Run after scripts/setup.sh and scripts/build-wasm.sh, with env.sh sourced and
the tools venv's Python (it has PyYAML):
    source ~/.cache/cors-filter-tools/env.sh
    ~/.cache/cors-filter-tools/venv/bin/python scripts/validate-deploy.py

- Envoy: every config passes `envoy --mode validate` with target/envoy-filter.wasm,
  which loads the module and runs its config check on the plugin JSON.
  (Validate mode neither downloads remote code nor reads ECDS, so for
  envoy-remote.yaml and envoy-ecds.yaml it checks the file's structure only;
  the ECDS resource ecds-cors.yaml is validated in envoy.yaml's place.)
- The Envoy configs and the Istio WasmPlugins carry the same policy.
- Istio: each WasmPlugin's pluginConfig, with every number turned into a float
  as Istio sends it, is accepted by the module, and every manifest passes
  Istio's published CRD schema (scripts/validate-istio.mjs).
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


def cors_filter(config):
    """The `cors` HTTP filter entry of a parsed Envoy config."""
    hcm = config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
    (cors,) = [f for f in hcm["typed_config"]["http_filters"] if f["name"] == "cors"]
    return cors


def wasm_filter(config):
    """The Wasm plugin config of the `cors` filter of a parsed Envoy config."""
    return cors_filter(config)["typed_config"]["config"]


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
        ecds = envoy_config("envoy-ecds.yaml", ECDS_DIR=tmp, UPSTREAM_PORT="8081")
        ecds_file = envoy_config("ecds-cors.yaml", WASM_PATH=str(MODULE))
        (ecds_resource,) = ecds_file["resources"]
        # Envoy checks that the ECDS file exists, though validation reads it not.
        (Path(tmp) / "ecds-cors.yaml").write_text(yaml.safe_dump(ecds_file))
        check("deploy/envoy/envoy.yaml: envoy --mode validate", *envoy_validate(local, tmp))
        check("deploy/envoy/envoy-remote.yaml: envoy --mode validate", *envoy_validate(remote, tmp))
        check("deploy/envoy/envoy-ecds.yaml: envoy --mode validate", *envoy_validate(ecds, tmp))
        with_ecds_resource = copy.deepcopy(local)
        cors_filter(with_ecds_resource)["typed_config"] = ecds_resource["typed_config"]
        check(
            "deploy/envoy/ecds-cors.yaml: envoy --mode validate in envoy.yaml's place",
            *envoy_validate(with_ecds_resource, tmp),
        )
        policy = json.loads(wasm_filter(local)["configuration"]["value"])
        check(
            "envoy-remote.yaml carries envoy.yaml's plugin JSON",
            json.loads(wasm_filter(remote)["configuration"]["value"]) == policy,
        )
        check(
            "ecds-cors.yaml carries envoy.yaml's filter config",
            ecds_resource["typed_config"] == cors_filter(local)["typed_config"],
        )
        check(
            "every Envoy config names its filter `cors` with a failure_policy",
            all(wasm_filter(c).get("failure_policy") for c in (local, remote, with_ecds_resource))
            and cors_filter(ecds)["config_discovery"]["type_urls"]
            == ["type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm"],
        )

        # --- Istio ---------------------------------------------------------
        for path in sorted((DEPLOY / "istio").glob("wasmplugin*.yaml")):
            name = f"deploy/istio/{path.name}"
            plugin = yaml.safe_load(path.read_text())
            check(
                f"{name}: a WasmPlugin in phase AUTHN",
                plugin["apiVersion"] == "extensions.istio.io/v1alpha1"
                and plugin["kind"] == "WasmPlugin"
                and plugin["spec"]["phase"] == "AUTHN",
            )
            istio_config = plugin["spec"]["pluginConfig"]
            check(f"{name} carries envoy.yaml's plugin JSON", istio_config == policy)
            check(
                f"{name} pluginConfig, numbers as floats, accepted by the module",
                *envoy_validate(with_plugin_json(local, as_floats(istio_config)), tmp),
            )
        # The kit leaves the image digest to the operator; the schema checks
        # the manifests with a digest of the right form in its place.
        stand_in = "sha256:" + hashlib.sha256(MODULE.read_bytes()).hexdigest()
        run = subprocess.run(
            ["node", str(ROOT / "scripts" / "validate-istio.mjs"), f"IMAGE_DIGEST={stand_in}"],
            capture_output=True,
            text=True,
        )
        print(run.stdout, end="")
        check("deploy/istio: every manifest passes Istio's CRD schema", run.returncode == 0, run.stderr)

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
