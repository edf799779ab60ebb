//! The Envoy deploy kit (`deploy/envoy`) as the tests run it: the kit's own
//! files, with their placeholders filled in, and their fixed ports moved to
//! ports Envoy picks (see [`crate::envoy::Envoy::start_with`]).

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// `deploy/envoy/<name>`.
pub fn path(name: &str) -> PathBuf {
    crate::workspace_root().join("deploy/envoy").join(name)
}

/// A kit file with each `@KEY@` in `fill` replaced by its value, parsed.
/// Every placeholder outside comments must be filled.
///
/// # Panics
/// When the file is missing, is not YAML, or keeps a placeholder.
pub fn load(name: &str, fill: &[(&str, &str)]) -> Value {
    let path = path(name);
    let mut text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    for (key, value) in fill {
        text = text.replace(&format!("@{key}@"), value);
    }
    let left = text
        .lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .flat_map(|line| line.split('@').skip(1).step_by(2))
        .find(|key| !key.is_empty() && key.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'));
    assert!(
        left.is_none(),
        "{name}: @{}@ is not filled in",
        left.unwrap_or_default()
    );
    serde_saphyr::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not valid YAML: {e}", path.display()))
}

/// A kit bootstrap, ready for [`crate::envoy::Envoy::start_with`]: admin and
/// listener on port 0, the listener named `http`.
pub fn bootstrap(name: &str, fill: &[(&str, &str)]) -> Value {
    let mut bootstrap = load(name, fill);
    let any_port = json!({"socket_address": {"address": "127.0.0.1", "port_value": 0}});
    bootstrap["admin"]["address"] = any_port.clone();
    let listener = &mut bootstrap["static_resources"]["listeners"][0];
    listener["name"] = json!("http");
    listener["address"] = any_port;
    bootstrap
}

/// `envoy.yaml`, the kit's main file, running the built module in front of
/// `upstream`.
pub fn envoy_yaml(upstream: SocketAddr) -> Value {
    bootstrap(
        "envoy.yaml",
        &[
            ("WASM_PATH", &crate::envoy::module_path().to_string_lossy()),
            ("UPSTREAM_PORT", &upstream.port().to_string()),
        ],
    )
}

/// The ECDS variant in front of `upstream`: its bootstrap, watching
/// `ecds_dir`, and the filter resource to publish there, running the built
/// module.
pub fn ecds(ecds_dir: &Path, upstream: SocketAddr) -> (Value, Value) {
    let module = crate::envoy::module_path();
    let bootstrap = bootstrap(
        "envoy-ecds.yaml",
        &[
            ("ECDS_DIR", &ecds_dir.to_string_lossy()),
            ("UPSTREAM_PORT", &upstream.port().to_string()),
        ],
    );
    let resource = load(
        "ecds-cors.yaml",
        &[("WASM_PATH", &module.to_string_lossy())],
    );
    (bootstrap, resource)
}

/// The plugin JSON inside a Wasm filter config (`typed_config` of the
/// `cors` filter or of its ECDS resource), mutable.
///
/// # Panics
/// When `wasm` has none.
pub fn plugin_json(wasm: &mut Value) -> &mut Value {
    assert!(
        wasm["config"]["configuration"]["value"].is_string(),
        "no plugin JSON in {wasm}"
    );
    &mut wasm["config"]["configuration"]["value"]
}

/// The `cors` filter's `typed_config` in a kit bootstrap.
///
/// # Panics
/// When the first listener has no `cors` filter with a `typed_config`.
pub fn cors_filter(bootstrap: &mut Value) -> &mut Value {
    let filters = &mut bootstrap["static_resources"]["listeners"][0]["filter_chains"][0]["filters"]
        [0]["typed_config"]["http_filters"];
    filters
        .as_array_mut()
        .and_then(|filters| filters.iter_mut().find(|f| f["name"] == "cors"))
        .map(|filter| &mut filter["typed_config"])
        .filter(|config| config.is_object())
        .expect("the kit's listener has a `cors` filter")
}

/// What the module reports as a config's hash: the first 12 hex digits of
/// the SHA-256 of the plugin JSON exactly as Envoy hands it over.
pub fn config_hash(plugin_json: &str) -> String {
    Sha256::digest(plugin_json.as_bytes())
        .iter()
        .take(6)
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The module's version, as its configure log line gives it.
pub fn module_version() -> String {
    let manifest = crate::workspace_root().join("envoy-filter/Cargo.toml");
    let text = std::fs::read_to_string(&manifest).expect("read envoy-filter/Cargo.toml");
    text.lines()
        .find_map(|line| line.strip_prefix("version = "))
        .map(|version| version.trim_matches('"').to_string())
        .expect("a version in envoy-filter/Cargo.toml")
}
