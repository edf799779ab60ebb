//! The shared vectors through real Envoy running the module.
//!
//! One Envoy per topic file, configured with that file's config; every case
//! is sent and checked (forwarded or not, status, the exact set of
//! `access-control-*` and `vary` headers), then the module's per-outcome
//! counters must have grown by the number of cases expecting each outcome.
//! Every failure of every file is reported, not only the first. The one
//! place where Envoy answers for itself is [`envoy_expectation`].
//!
//! Needs Envoy (`scripts/setup.sh`) and the module (`scripts/build-wasm.sh
//! envoy`); fails, never skips, without them.

use e2e::conformance;
use e2e::envoy::{self, Envoy};
use e2e::upstream::Upstream;
use e2e::vectors::{self, Case, Expect, VectorFile};

/// Envoy's HTTP/1 codec answers `400` itself to a request target with a byte
/// above 0x7F (`HPE_INVALID_URL`), before any filter runs: the module never
/// sees such a request, so through Envoy the case must get exactly that
/// answer, and no outcome is counted.
fn envoy_expectation(case: &Case) -> Expect {
    if case.request.path.iter().any(|&b| b > 0x7f) {
        Expect {
            forwarded: false,
            status: 400,
            headers: Vec::new(),
            outcome: None,
        }
    } else {
        case.expect.clone()
    }
}

/// Runs one case; `Err` lists what differs.
fn run_case(envoy: &Envoy, upstream: &Upstream, id: &str, case: &Case) -> Result<(), Vec<String>> {
    let seen = conformance::send(envoy.listener(), upstream, id, case).map_err(|e| vec![e])?;
    let problems = envoy_expectation(case).mismatches(&seen.observed());
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Runs every case of a file through one Envoy; returns the failures.
fn run_file(file: &VectorFile) -> Vec<String> {
    let upstream = Upstream::start();
    let envoy = match Envoy::start(&file.config, upstream.addr(), &[]) {
        Ok(envoy) => envoy,
        Err(failure) => {
            return vec![format!(
                "{}: Envoy did not start ({:?}):\n{}",
                file.file, failure.status, failure.log
            )]
        }
    };
    let before = envoy.outcome_counters();
    let mut failures = Vec::new();
    for (i, case) in file.cases.iter().enumerate() {
        let id = format!("{}#{i}", file.file);
        if let Err(problems) = run_case(&envoy, &upstream, &id, case) {
            failures.push(conformance::failure(file, case, &problems));
        }
    }
    let after = envoy.outcome_counters();
    let mut as_envoy_answers = file.cases.clone();
    for case in &mut as_envoy_answers {
        case.expect = envoy_expectation(case);
    }
    let expected = vectors::outcome_counts(&as_envoy_answers);
    let outcomes = after.keys().chain(expected.keys());
    for outcome in outcomes.collect::<std::collections::BTreeSet<_>>() {
        let delta =
            after.get(outcome).copied().unwrap_or(0) - before.get(outcome).copied().unwrap_or(0);
        let want = expected.get(outcome).copied().unwrap_or(0);
        if delta != want {
            failures.push(format!(
                "{}: counter {outcome}: expected +{want}, got +{delta}",
                file.file
            ));
        }
    }
    failures
}

#[test]
fn every_vector_file_through_envoy() {
    let files = conformance::topics();
    let mut failures = Vec::new();
    let mut cases = 0;
    for file in &files {
        cases += file.cases.len();
        failures.extend(run_file(file));
    }
    assert!(
        failures.is_empty(),
        "{} of {cases} cases in {} files failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
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
