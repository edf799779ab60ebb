//! The shared vectors through real workerd running the Worker (see
//! [`e2e::conformance`]; what workerd answers for itself is listed on
//! stderr), and every refused config answered 500 with the reason logged.
//!
//! Needs workerd (`scripts/setup.sh`) and the built Worker
//! (`scripts/build-wasm.sh worker`); fails, never skips, without them.

use e2e::client;
use e2e::conformance;
use e2e::proxy::Runtime;
use e2e::upstream::Upstream;
use e2e::vectors;
use e2e::workerd::{CorsConfig, Workerd};
use std::time::Duration;

/// The body of every answer while the config is refused.
const REFUSED_BODY: &[u8] = b"CORS configuration refused; see the Worker's logs\n";

/// How long a log line may take to arrive after its response.
const LOG_DELAY: Duration = Duration::from_secs(5);

#[test]
fn every_vector_file_through_workerd() {
    conformance::assert_all_vectors(Runtime::Workerd);
}

#[test]
fn every_refused_config_answers_500_and_logs_why() {
    let refused = vectors::load_refused(&vectors::dir()).unwrap_or_else(|e| panic!("{e}"));
    assert!(!refused.is_empty(), "refused.json lists nothing");
    let upstream = Upstream::start();
    let origin_url = format!("http://{}", upstream.addr());
    let mut failures = Vec::new();
    for item in &refused {
        let workerd = match Workerd::start(CorsConfig::Text(&item.config), Some(&origin_url)) {
            Ok(workerd) => workerd,
            Err(failure) => {
                failures.push(format!(
                    "{:?}: workerd did not start: {}",
                    item.name, failure.log
                ));
                continue;
            }
        };
        let response = client::Request::new("GET", "/x")
            .header("Host", "api.example.com")
            .header("Origin", "https://app.example.com")
            .send(workerd.addr());
        match response {
            Ok(r) if r.status == 500 && r.body == REFUSED_BODY => {}
            Ok(r) => failures.push(format!(
                "{:?}: expected 500 with {:?}, got {} {:?}",
                item.name,
                String::from_utf8_lossy(REFUSED_BODY),
                r.status,
                String::from_utf8_lossy(&r.body)
            )),
            Err(e) => failures.push(format!("{:?}: no response: {e}", item.name)),
        }
        let missing: Vec<&String> = item
            .errors
            .iter()
            .filter(|e| !workerd.wait_for_error_line(e, LOG_DELAY))
            .collect();
        if !missing.is_empty() {
            failures.push(format!(
                "{:?}: the log lacks {missing:?}; the Worker said:\n    {}",
                item.name,
                workerd.error_lines().join("\n    ")
            ));
        }
    }
    assert!(
        upstream.requests().is_empty(),
        "a refused config forwarded requests: {:?}",
        upstream.requests()
    );
    assert!(
        failures.is_empty(),
        "{} of {} refused configs:\n{}",
        failures.len(),
        refused.len(),
        failures.join("\n")
    );
}
