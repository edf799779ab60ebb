//! The shared vectors through real workerd running the Worker.
//!
//! One workerd per topic file, with that file's config as a text
//! `CORS_CONFIG` and `ORIGIN_URL` pointing at a recording upstream; every case
//! is sent and checked (forwarded or not, status, the exact set of
//! `access-control-*` and `vary` headers). The Worker has no counters; it logs
//! each denial as a JSON line, so each case expecting a denial outcome must
//! log exactly that one line, and every other case none. Every failure of
//! every file is reported, not only the first.
//!
//! workerd itself changes two kinds of request before any Worker sees them
//! (see [`WorkerdDifference`]); those cases are checked against what workerd
//! does instead, and listed on stderr.
//!
//! Needs workerd (`scripts/setup.sh`) and the built Worker
//! (`scripts/build-wasm.sh worker`); fails, never skips, without them.

use e2e::client;
use e2e::conformance;
use e2e::upstream::Upstream;
use e2e::vectors::{self, Case, Header, VectorFile};
use e2e::workerd::{CorsConfig, Workerd};
use std::time::Duration;

/// The outcomes the Worker logs; the others leave no trace.
const DENIALS: [&str; 5] = [
    "preflight_denied_origin",
    "preflight_denied_method",
    "preflight_denied_headers",
    "actual_denied",
    "actual_rejected",
];

/// The body of every answer while the config is refused.
const REFUSED_BODY: &[u8] = b"CORS configuration refused; see the Worker's logs\n";

/// How long a denial's log line may take to arrive after its response.
const LOG_DELAY: Duration = Duration::from_secs(5);

/// Requests that workerd changes before the Worker runs, so that no Worker
/// can give the vector's answer. Envoy hands both to the filter unchanged.
enum WorkerdDifference {
    /// A request target that is not valid UTF-8 (a raw 0xFF byte): workerd
    /// answers `400 invalid URI` itself. Nothing is forwarded and no CORS
    /// header is added.
    InvalidTarget,
    /// An `Origin` line with an empty value: workerd drops it (as it does an
    /// empty `Referer` or `User-Agent`; an empty `X-Anything` it keeps), so
    /// the Worker must answer exactly as it answers the request without it.
    EmptyOrigin(Case),
}

impl WorkerdDifference {
    fn of(case: &Case) -> Option<WorkerdDifference> {
        if std::str::from_utf8(&case.request.path).is_err() {
            return Some(WorkerdDifference::InvalidTarget);
        }
        let empty_origin = |(name, value): &Header| {
            name.eq_ignore_ascii_case(b"origin") && value.trim_ascii().is_empty()
        };
        if case.request.headers.iter().any(empty_origin) {
            let mut without = case.clone();
            without.request.headers.retain(|h| !empty_origin(h));
            return Some(WorkerdDifference::EmptyOrigin(without));
        }
        None
    }
}

/// Runs one case; `Err` lists what differs.
fn run_case(
    workerd: &Workerd,
    upstream: &Upstream,
    id: &str,
    case: &Case,
) -> Result<(), Vec<String>> {
    let seen = conformance::send(workerd.addr(), upstream, id, case).map_err(|e| vec![e])?;
    let problems = match WorkerdDifference::of(case) {
        None => case.expect.mismatches(&seen.observed()),
        Some(WorkerdDifference::InvalidTarget) => {
            let cors = vectors::cors_headers(&seen.headers);
            if seen.status == 400 && !seen.forwarded && cors.is_empty() {
                Vec::new()
            } else {
                vec![format!(
                    "workerd refuses a non-UTF-8 target with 400; got {}, forwarded {}, {cors:?}",
                    seen.status, seen.forwarded
                )]
            }
        }
        Some(WorkerdDifference::EmptyOrigin(without)) => {
            let reference = conformance::send(
                workerd.addr(),
                upstream,
                &format!("{id}/without-origin"),
                &without,
            )
            .map_err(|e| vec![e])?;
            let same = (
                seen.forwarded,
                seen.status,
                vectors::cors_headers(&seen.headers),
            ) == (
                reference.forwarded,
                reference.status,
                vectors::cors_headers(&reference.headers),
            );
            if same {
                Vec::new()
            } else {
                vec![format!(
                    "workerd drops an empty Origin, so the answer must equal the one without it: \
                     {} forwarded {} {:?} vs {} forwarded {} {:?}",
                    seen.status,
                    seen.forwarded,
                    vectors::cors_headers(&seen.headers),
                    reference.status,
                    reference.forwarded,
                    vectors::cors_headers(&reference.headers)
                )]
            }
        }
    };
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// The outcome the Worker logs for this case, if it is a denial. A request
/// workerd changes is never denied: it is refused before the Worker, or has
/// no `Origin` left.
fn expected_denial(case: &Case) -> Option<&str> {
    if WorkerdDifference::of(case).is_some() {
        return None;
    }
    case.expect
        .outcome
        .as_deref()
        .filter(|outcome| DENIALS.contains(outcome))
}

/// Runs every case of a file through one workerd; returns the failures and
/// the names of the cases checked as workerd differences.
fn run_file(file: &VectorFile) -> (Vec<String>, Vec<String>) {
    let upstream = Upstream::start();
    let origin_url = format!("http://{}", upstream.addr());
    let workerd = match Workerd::start(CorsConfig::Text(&file.config), Some(&origin_url)) {
        Ok(workerd) => workerd,
        Err(failure) => {
            let failure = format!(
                "{}: workerd did not start ({:?}):\n{}",
                file.file, failure.status, failure.log
            );
            return (vec![failure], Vec::new());
        }
    };
    let mut failures = Vec::new();
    // Where each case's denial log lines begin.
    let mut log_starts = Vec::with_capacity(file.cases.len() + 1);
    for (i, case) in file.cases.iter().enumerate() {
        let start = workerd.denials().len();
        log_starts.push(start);
        let id = format!("{}#{i}", file.file);
        if let Err(problems) = run_case(&workerd, &upstream, &id, case) {
            failures.push(conformance::failure(file, case, &problems));
        }
        // Its line must be in before the next case starts, to be counted as its own.
        if expected_denial(case).is_some() {
            workerd.wait_for_denials(start + 1, LOG_DELAY);
        }
    }
    // A line that should not exist comes a moment after its response too.
    std::thread::sleep(Duration::from_millis(200));
    let logged = workerd.denials();
    log_starts.push(logged.len());
    for (case, bounds) in file.cases.iter().zip(log_starts.windows(2)) {
        let lines = &logged[bounds[0]..bounds[1]];
        let ok = match (expected_denial(case), lines) {
            (None, []) => true,
            (Some(outcome), [line]) => line.outcome == outcome && !line.reason.is_empty(),
            _ => false,
        };
        if !ok {
            failures.push(format!(
                "{} / {:?}: expected denial log {:?}, got {lines:?}",
                file.file,
                case.name,
                expected_denial(case)
            ));
        }
    }
    let differences = file
        .cases
        .iter()
        .filter(|case| WorkerdDifference::of(case).is_some())
        .map(|case| format!("{} / {:?}", file.file, case.name))
        .collect();
    (failures, differences)
}

#[test]
fn every_vector_file_through_workerd() {
    let files = conformance::topics();
    let mut failures = Vec::new();
    let mut differences = Vec::new();
    let mut cases = 0;
    for file in &files {
        cases += file.cases.len();
        let (file_failures, file_differences) = run_file(file);
        failures.extend(file_failures);
        differences.extend(file_differences);
    }
    eprintln!(
        "{} of {cases} cases checked against what workerd does instead (see WorkerdDifference):\n  {}",
        differences.len(),
        differences.join("\n  ")
    );
    assert!(
        failures.is_empty(),
        "{} failures over {cases} cases in {} files:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
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
