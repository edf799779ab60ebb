//! deploy/schema/plugin-config.schema.json: what the engine's model
//! generates, and, against the shared vectors, every config the filter
//! accepts is valid and the refusals that are about structure (types,
//! unknown fields, enums, shapes, ranges) are invalid.

mod common;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn validator() -> jsonschema::Validator {
    let schema = read(&repo().join("deploy/schema/plugin-config.schema.json"));
    jsonschema::draft202012::meta::validate(&schema).expect("the schema is valid draft 2020-12");
    jsonschema::draft202012::new(&schema).expect("the schema compiles")
}

/// Refusals the schema does not catch, on purpose: they need the engine's
/// own logic (name uniqueness, the loopback rule for credentials, numeric
/// port and length limits, the Fetch Standard's forbidden header names),
/// which a schema could only copy badly. `cors-filter check` catches them.
const ENGINE_ONLY: &[&str] = &[
    "duplicate policy names",
    "duplicate name among three",
    "credentials with http non-loopback origin http://app.example.com",
    "credentials with http non-loopback origin http://localhost.evil.com",
    "credentials with http non-loopback origin http://*.example.com",
    "credentials with http non-loopback origin http://[::2]:3000",
    "credentials with http non-loopback origin http://127.0.0.1.nip.io",
    "credentials with http non-loopback origin http://10.0.0.1:8080",
    "malformed origin: port 0",
    "malformed origin: port 65536",
    "malformed origin: host over 253 bytes",
    "allow_headers refused: Cookie",
    "allow_headers refused: cookie",
    "allow_headers refused: Host",
    "allow_headers refused: Origin",
    "allow_headers refused: Proxy-Authorization",
    "allow_headers refused: Proxy-Foo",
    "allow_headers refused: Sec-Foo",
    "allow_headers refused: sec-fetch-mode",
    "allow_headers refused: Access-Control-Request-Method",
    "allow_headers refused: Access-Control-Request-Headers",
    "allow_headers refused: Content-Length",
    "allow_headers refused: Connection",
    "allow_headers refused: Referer",
    "allow_headers refused: Transfer-Encoding",
    "allow_headers refused: Keep-Alive",
    "allow_headers refused: Accept-Encoding",
    "allow_headers refused: Set-Cookie",
    "expose_headers refused: Set-Cookie",
    "expose_headers refused: set-cookie2",
    // Version 1.1: the Public Suffix List, IPv6 forms and metric names.
    "credentials with a wildcard over a public suffix: private-section suffix",
    "credentials with a wildcard over a public suffix: ICANN suffix",
    "credentials with a wildcard over a public suffix: private-section suffix (Vercel)",
    "credentials with a wildcard over a public suffix: suffix by a PSL wildcard rule",
    "credentials with a wildcard over a public suffix: private-section suffix below a domain",
    "credentials with a wildcard over a public suffix: domain with public suffixes below it",
    "credentials with a wildcard over a public suffix: glob label directly under a public suffix",
    "credentials with a wildcard over a public suffix: glob label directly under a TLD",
    "IPv6 origin not in canonical form",
    "IPv6 origin with leading zeros and upper case",
    "invalid IPv6 origin http://[1:2]",
    "invalid IPv6 origin http://[:::::]",
    "invalid IPv6 origin http://[1::2::3]",
    "invalid IPv6 origin http://[::1%25eth0]",
    "IPv6 literal in match.hosts that is not valid",
    "two policy names with one metric name",
    "two policy names with one metric name, other characters",
];

#[test]
fn checked_in_schema_is_the_generated_one() {
    let path = repo().join("deploy/schema/plugin-config.schema.json");
    let checked_in = std::fs::read_to_string(&path).expect("the schema file");
    let generated = common::run(&["schema"]);
    assert_eq!(generated.code, 0, "{}", generated.stderr);
    assert!(
        generated.stdout == checked_in,
        "{} is not what the model generates; regenerate it:\n  \
         cargo run -p cors-filter-cli -- schema > deploy/schema/plugin-config.schema.json",
        path.display()
    );
}

#[test]
fn every_vector_config_is_valid() {
    let validator = validator();
    let mut checked = 0;
    let dir = repo().join("tests/vectors");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .filter(|p| p.file_name().is_some_and(|n| n != "refused.json"))
        .collect();
    files.sort();
    for file in files {
        let vector = read(&file);
        let config = vector
            .get("config")
            .unwrap_or_else(|| panic!("{} has no config", file.display()));
        let errors: Vec<String> = validator
            .iter_errors(config)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", file.display());
        checked += 1;
    }
    assert!(checked > 0, "no topic vectors found in {}", dir.display());
}

#[test]
fn structural_refusals_are_invalid() {
    let validator = validator();
    let refused = read(&repo().join("tests/vectors/refused.json"));
    let cases = refused["refused"]
        .as_array()
        .expect("refused.json lists cases");
    let mut structural = 0;
    for case in cases {
        let name = case["name"].as_str().expect("a case has a name");
        let Some(config) = case.get("config") else {
            // `config_text`: not JSON at all, nothing for a schema to see.
            continue;
        };
        if ENGINE_ONLY.contains(&name) {
            continue;
        }
        assert!(
            !validator.is_valid(config),
            "the schema accepts refused case {name:?}"
        );
        structural += 1;
    }
    assert!(
        structural > 50,
        "only {structural} structural refusals found"
    );
    for name in ENGINE_ONLY {
        assert!(
            cases.iter().any(|c| c["name"] == *name),
            "ENGINE_ONLY names {name:?}, which refused.json no longer has"
        );
    }
}

#[test]
fn documented_example_and_imported_shapes_are_valid() {
    let validator = validator();
    let example: Value = serde_json::json!({
        "mode": "enforce",
        "policies": [
            {"name": "public", "match": {"paths": ["/public/*"]}, "allow_origins": ["*"], "allow_methods": ["GET"], "max_age": 600},
            {"name": "authenticated",
             "match": {"hosts": ["api.example.com"], "paths": ["/api/*"]},
             "allow_origins": ["https://app.example.com", "https://*.example.com", "http://localhost:*"],
             "allow_methods": ["GET", "POST", "PUT", "DELETE"],
             "allow_headers": ["Content-Type", "Authorization", "X-CSRF-Token"],
             "expose_headers": ["X-RateLimit-Remaining"],
             "allow_credentials": true, "max_age": 3600.0,
             "allow_private_network": false, "disallowed": "pass"}
        ]
    });
    assert!(validator.is_valid(&example));
    for (field, bad) in [
        ("max_age", serde_json::json!(86401)),
        ("max_age", serde_json::json!(1.5)),
        ("disallowed", serde_json::json!("drop")),
        ("allow_origins", serde_json::json!(["https://*.com"])),
        (
            "allow_origins",
            serde_json::json!(["https://app.example.com/"]),
        ),
        ("allow_methods", serde_json::json!(["TRACE"])),
    ] {
        let mut config = example.clone();
        config["policies"][0][field] = bad.clone();
        assert!(!validator.is_valid(&config), "{field} = {bad}");
    }
}
