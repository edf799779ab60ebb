//! The shared vectors through real Envoy running the module, over HTTP/1.1
//! (see [`e2e::conformance`]), and every refused config through Envoy's
//! validation.
//!
//! Needs Envoy (`scripts/setup.sh`) and the module (`scripts/build-wasm.sh
//! envoy`); fails, never skips, without them.

use e2e::conformance;
use e2e::envoy;
use e2e::proxy::Runtime;
use e2e::vectors::{self, Refused};

#[test]
fn every_vector_file_through_envoy() {
    conformance::assert_all_vectors(Runtime::Envoy);
}

#[test]
fn every_vector_file_through_envoy_over_http2() {
    conformance::assert_all_vectors(Runtime::EnvoyHttp2);
}

/// Whether Envoy's validation refuses `item`, naming what it must: `None`
/// when it does.
fn refusal_problem(item: &Refused) -> Option<String> {
    let (ok, log) = envoy::validate(&item.config);
    if ok {
        return Some(format!("{:?}: Envoy accepted it", item.name));
    }
    let missing: Vec<&String> = item
        .errors
        .iter()
        .filter(|e| !log.contains(e.as_str()))
        .collect();
    if missing.is_empty() {
        return None;
    }
    let ours: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("config refused"))
        .collect();
    Some(format!(
        "{:?}: the log lacks {missing:?}; the module said:\n    {}",
        item.name,
        ours.join("\n    ")
    ))
}

#[test]
fn every_refused_config_fails_envoy_validation() {
    let refused = vectors::load_refused(&vectors::dir()).unwrap_or_else(|e| panic!("{e}"));
    assert!(!refused.is_empty(), "refused.json lists nothing");
    // One validation is a second of starting V8 and the module, on one
    // core: validate on every core (about 130 s alone on two, 70 s shared).
    let workers = std::thread::available_parallelism().map_or(2, usize::from);
    let failures: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|worker| {
                let refused = &refused;
                scope.spawn(move || {
                    refused
                        .iter()
                        .skip(worker)
                        .step_by(workers)
                        .filter_map(refusal_problem)
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a validation thread panicked"))
            .collect()
    });
    assert!(
        failures.is_empty(),
        "{} of {} refused configs:\n{}",
        failures.len(),
        refused.len(),
        failures.join("\n")
    );
}
