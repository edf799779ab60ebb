//! The shared vectors through real Envoy running the module, over HTTP/1.1
//! (see [`e2e::conformance`]), and every refused config through Envoy's
//! validation.
//!
//! Needs Envoy (`scripts/setup.sh`) and the module (`scripts/build-wasm.sh
//! envoy`); fails, never skips, without them.

use e2e::conformance;
use e2e::envoy;
use e2e::proxy::Runtime;
use e2e::vectors;

#[test]
fn every_vector_file_through_envoy() {
    conformance::assert_all_vectors(Runtime::Envoy);
}

#[test]
fn every_vector_file_through_envoy_over_http2() {
    conformance::assert_all_vectors(Runtime::EnvoyHttp2);
}

#[test]
fn every_refused_config_fails_envoy_validation() {
    let refused = vectors::load_refused(&vectors::dir()).unwrap_or_else(|e| panic!("{e}"));
    assert!(!refused.is_empty(), "refused.json lists nothing");
    let mut failures = Vec::new();
    for item in &refused {
        let (ok, log) = envoy::validate(&item.config);
        if ok {
            failures.push(format!("{:?}: Envoy accepted it", item.name));
            continue;
        }
        let missing: Vec<&String> = item
            .errors
            .iter()
            .filter(|e| !log.contains(e.as_str()))
            .collect();
        if !missing.is_empty() {
            let ours: Vec<&str> = log
                .lines()
                .filter(|l| l.contains("config refused"))
                .collect();
            failures.push(format!(
                "{:?}: the log lacks {missing:?}; the module said:\n    {}",
                item.name,
                ours.join("\n    ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} refused configs:\n{}",
        failures.len(),
        refused.len(),
        failures.join("\n")
    );
}
