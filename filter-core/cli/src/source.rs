//! Where a plugin config comes from: a JSON file of its own, or embedded in
//! an Envoy config (the Wasm filter's `configuration`), an Istio
//! `WasmPlugin` (`spec.pluginConfig`) or a `wrangler.toml` (`CORS_CONFIG`).

use serde_json::Value;

/// The Wasm HTTP filter's config type in an Envoy config (static or ECDS).
const ENVOY_WASM: &str = "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm";
/// The `configuration` type whose `value` is handed to the module as is.
const ENVOY_STRING: &str = "type.googleapis.com/google.protobuf.StringValue";

/// One plugin config found in the input.
pub struct Found {
    /// Where it was found, as `check` names it; `None` for a JSON file.
    pub place: Option<String>,
    /// The name a user picks it by (`--select`): the Envoy filter's
    /// `config.name`, the WasmPlugin's name or the wrangler environment.
    pub name: String,
    /// The plugin JSON as the filter receives it.
    pub json: Vec<u8>,
}

/// Every plugin config in `bytes`: a file named `*.toml` is a
/// `wrangler.toml`; other text is YAML (or JSON) holding Envoy or Istio
/// resources; JSON holding none, or bytes that are not text, are the plugin
/// JSON itself, and the engine says what is wrong with it, if anything.
///
/// # Errors
/// Why the input cannot be read, or that it holds no plugin config.
pub fn configs(path: &str, bytes: &[u8]) -> Result<Vec<Found>, String> {
    let plugin_json = || {
        Ok(vec![Found {
            place: None,
            name: String::new(),
            json: bytes.to_vec(),
        }])
    };
    let Ok(text) = std::str::from_utf8(bytes) else {
        return plugin_json();
    };
    if path.ends_with(".toml") {
        return wrangler(text).map_err(|e| format!("{path}: {e}"));
    }
    let json = text.trim_start().starts_with(['{', '[']);
    let documents = if json {
        serde_json::from_str(text).map_or(Vec::new(), |document| vec![document])
    } else {
        documents(text).map_err(|e| format!("{path}: {e}"))?
    };
    let mut found = Vec::new();
    for document in &documents {
        if document["kind"] == "WasmPlugin" {
            found.push(wasm_plugin(document)?);
        } else {
            envoy(document, &mut found)?;
        }
    }
    match found.is_empty() {
        true if json => plugin_json(),
        true => Err(format!("{path} holds no plugin config: expected the plugin JSON, an Envoy config with the Wasm filter, an Istio WasmPlugin or a wrangler.toml with CORS_CONFIG")),
        false => Ok(found),
    }
}

fn wasm_plugin(document: &Value) -> Result<Found, String> {
    let name = document["metadata"]["name"].as_str().unwrap_or_default();
    let place = format!("Istio WasmPlugin \"{name}\" spec.pluginConfig");
    match &document["spec"]["pluginConfig"] {
        Value::Null => Err(format!("{place} is missing")),
        config => Ok(Found {
            place: Some(place),
            name: name.to_string(),
            json: config.to_string().into_bytes(),
        }),
    }
}

/// Every Wasm filter config anywhere in an Envoy document.
fn envoy(value: &Value, found: &mut Vec<Found>) -> Result<(), String> {
    match value {
        Value::Object(fields) if fields.get("@type").is_some_and(|t| t == ENVOY_WASM) => {
            let name = value["config"]["name"].as_str().unwrap_or_default();
            let place = format!("Envoy Wasm filter \"{name}\" config.configuration");
            let configuration = &value["config"]["configuration"];
            match (configuration["@type"].as_str(), &configuration["value"]) {
                (Some(ENVOY_STRING), Value::String(json)) => found.push(Found {
                    place: Some(place),
                    name: name.to_string(),
                    json: json.clone().into_bytes(),
                }),
                _ => {
                    return Err(format!(
                    "{place}: expected \"@type\": {ENVOY_STRING} with the plugin JSON as \"value\""
                ))
                }
            }
        }
        Value::Object(fields) => fields.values().try_for_each(|v| envoy(v, found))?,
        Value::Array(items) => items.iter().try_for_each(|v| envoy(v, found))?,
        _ => {}
    }
    Ok(())
}

/// `CORS_CONFIG` of `[vars]` and of each `[env.NAME.vars]`, written either
/// as a TOML table (the Worker receives it as a JSON object) or as a string
/// of JSON.
fn wrangler(text: &str) -> Result<Vec<Found>, String> {
    let file: toml::Table = toml::from_str(text).map_err(|e| format!("not valid TOML: {e}"))?;
    let mut vars = vec![("top level".to_string(), String::new(), file.get("vars"))];
    if let Some(envs) = file.get("env").and_then(toml::Value::as_table) {
        for (name, env) in envs {
            vars.push((format!("env.{name}"), name.clone(), env.get("vars")));
        }
    }
    let mut found = Vec::new();
    for (place, name, vars) in vars {
        let json = match vars.and_then(|v| v.get("CORS_CONFIG")) {
            None => continue,
            Some(toml::Value::String(json)) => json.clone().into_bytes(),
            Some(table) => serde_json::to_vec(table).map_err(|e| e.to_string())?,
        };
        found.push(Found {
            place: Some(format!("wrangler.toml {place} CORS_CONFIG")),
            name,
            json,
        });
    }
    if found.is_empty() {
        return Err("no CORS_CONFIG in [vars] or in any [env.NAME.vars]".into());
    }
    Ok(found)
}

/// Every document of `text` (documents are separated by `---`), as JSON
/// values: Envoy, Istio, Kong and Gateway API files are YAML, and JSON is
/// read as YAML too. Empty and `null` documents are skipped.
///
/// # Errors
/// The parser's message, which names the line and column of a syntax
/// error, a duplicate key or an alias bomb.
pub fn documents(text: &str) -> Result<Vec<Value>, String> {
    serde_saphyr::from_multiple(text).map_err(|e| format!("not valid YAML or JSON: {e}"))
}
