//! The shared vectors through a [`Runtime`]: one proxy per topic file,
//! configured with that file's config, in front of a recording upstream.
//! Every case is sent and checked (forwarded or not, status, the exact set
//! of `access-control-*` and `vary` headers), and the decision the runtime
//! records for it must be the case's outcome. Every failure of every file
//! is reported, not only the first; what a runtime answers for itself, and
//! what it skips, is listed with its reason ([`Proxy::expectation`]).

use crate::proxy::{vector_request, Expectation, Proxy, Runtime};
use crate::upstream::{self, Upstream};
use crate::vectors::{self, Case, Header, Observed, VectorFile};
use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, Instant};

/// How long a recorded decision may take to show after its answer (the
/// Worker's log lines arrive through a pipe).
const RECORD_DELAY: Duration = Duration::from_secs(5);

/// Every topic file.
///
/// # Panics
/// When a file cannot be loaded or there are none: a runner that checks
/// nothing must not pass.
pub fn topics() -> Vec<VectorFile> {
    let files = vectors::load_topics(&vectors::dir()).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        !files.is_empty(),
        "no vector files in {}",
        vectors::dir().display()
    );
    files
}

/// What the client and the upstream saw of one request.
#[derive(Debug, Clone)]
pub struct Seen {
    /// Whether the upstream saw the request.
    pub forwarded: bool,
    /// The response status.
    pub status: u16,
    /// Every response header line.
    pub headers: Vec<Header>,
}

impl Seen {
    /// The same, borrowed, for [`vectors::Expect::mismatches`].
    pub fn observed(&self) -> Observed<'_> {
        Observed {
            forwarded: self.forwarded,
            status: self.status,
            headers: &self.headers,
        }
    }
}

/// Sends a case's request through `proxy`, tagged with `id` so that
/// `upstream` can tell whether it arrived, and carrying the case's upstream
/// answer.
///
/// # Errors
/// No response came back.
pub fn send(proxy: &dyn Proxy, upstream: &Upstream, id: &str, case: &Case) -> Result<Seen, String> {
    let (name, value) = upstream::instructions(&case.upstream);
    let request = vector_request(case)
        .header(upstream::ID_HEADER, id)
        .header(name, value);
    let response = proxy
        .send(&request)
        .map_err(|e| format!("no response: {e}"))?;
    Ok(Seen {
        forwarded: upstream.saw(id),
        status: response.status,
        headers: response.headers,
    })
}

/// The tally of a run through one runtime.
#[derive(Debug, Default)]
pub struct Tally {
    /// Cases sent.
    pub sent: usize,
    /// Cases not sent, with the reason.
    pub skipped: Vec<String>,
    /// Cases the runtime answers for itself, with the reason.
    pub differences: Vec<String>,
    /// What went wrong.
    pub failures: Vec<String>,
}

/// Runs every case of every topic file through `runtime` and asserts that
/// each gets its answer; prints what was sent, skipped and answered by the
/// runtime itself.
///
/// # Panics
/// When any case fails, listing every failure.
pub fn assert_all_vectors(runtime: Runtime) {
    let files = topics();
    let mut tally = Tally::default();
    let total: usize = files.iter().map(|f| f.cases.len()).sum();
    for file in &files {
        run_file(runtime, file, &mut tally);
    }
    // Written past the test harness's capture, so that every run shows what
    // was skipped and what the runtime answered itself, and why.
    let mut summary = format!(
        "{}: {} of {total} cases sent, {} answered by the runtime itself, {} skipped\n",
        runtime.name(),
        tally.sent,
        tally.differences.len(),
        tally.skipped.len(),
    );
    for line in &tally.differences {
        summary += &format!("  answered by the runtime: {line}\n");
    }
    for line in &tally.skipped {
        summary += &format!("  skipped: {line}\n");
    }
    let _ = std::io::stderr().write_all(summary.as_bytes());
    assert!(tally.sent > 0, "{}: no case was sent", runtime.name());
    assert!(
        tally.failures.is_empty(),
        "{}: {} failures over {} cases in {} files:\n{}",
        runtime.name(),
        tally.failures.len(),
        tally.sent,
        files.len(),
        tally.failures.join("\n")
    );
}

/// Runs every case of `file` through one proxy of `runtime`.
fn run_file(runtime: Runtime, file: &VectorFile, tally: &mut Tally) {
    let upstream = Upstream::start();
    let proxy = match runtime.start(&file.config, &upstream) {
        Ok(proxy) => proxy,
        Err(why) => return tally.failures.push(format!("{}: {why}", file.file)),
    };
    let at = |case: &Case| format!("{} / {:?}", file.file, case.name);
    let start = proxy.recorded();
    let mut expected_total = BTreeMap::new();
    for (i, case) in file.cases.iter().enumerate() {
        let id = format!("{}#{i}", file.file);
        let before = proxy.recorded();
        let (problems, recorded) = match proxy.expectation(case) {
            Expectation::Skipped(why) => {
                tally.skipped.push(format!("{}: {why}", at(case)));
                continue;
            }
            Expectation::Vector => (
                check(&*proxy, &upstream, &id, case, &case.expect),
                case.expect.outcome.clone(),
            ),
            Expectation::Instead { expect, reason } => {
                tally.differences.push(format!("{}: {reason}", at(case)));
                let problems = check(&*proxy, &upstream, &id, case, &expect);
                (problems, expect.outcome)
            }
            Expectation::SameAs {
                case: reference,
                reason,
            } => {
                tally.differences.push(format!("{}: {reason}", at(case)));
                let problems = same_as(&*proxy, &upstream, &id, case, &reference);
                tally.sent += 1;
                tally
                    .failures
                    .extend(problems.iter().map(|p| format!("{}:\n    {p}", at(case))));
                continue;
            }
        };
        tally.sent += 1;
        let mut problems = problems;
        let want: BTreeMap<String, u64> = recorded
            .filter(|outcome| proxy.records(outcome))
            .map(|outcome| (outcome, 1))
            .into_iter()
            .collect();
        let got = recorded_since(&*proxy, &before, &want);
        for (outcome, n) in &want {
            *expected_total.entry(outcome.clone()).or_insert(0) += n;
        }
        if got != want {
            problems.push(format!("recorded: expected {want:?}, got {got:?}"));
        }
        if !problems.is_empty() {
            tally
                .failures
                .push(format!("{}:\n    {}", at(case), problems.join("\n    ")));
        }
    }
    // A record that should not exist comes a moment after its answer too.
    std::thread::sleep(Duration::from_millis(200));
    let total = recorded_since(&*proxy, &start, &BTreeMap::new());
    if total != expected_total {
        tally.failures.push(format!(
            "{}: recorded in all: expected {expected_total:?}, got {total:?}",
            file.file
        ));
    }
}

/// Sends `case` and lists how the answer differs from `expect`.
fn check(
    proxy: &dyn Proxy,
    upstream: &Upstream,
    id: &str,
    case: &Case,
    expect: &vectors::Expect,
) -> Vec<String> {
    match send(proxy, upstream, id, case) {
        Ok(seen) => expect.mismatches(&seen.observed()),
        Err(e) => vec![e],
    }
}

/// Sends `case` and `reference`, and lists how their answers differ.
fn same_as(
    proxy: &dyn Proxy,
    upstream: &Upstream,
    id: &str,
    case: &Case,
    reference: &Case,
) -> Vec<String> {
    let answer = |id: &str, case: &Case| {
        send(proxy, upstream, id, case).map(|seen| {
            (
                seen.forwarded,
                seen.status,
                vectors::cors_headers(&seen.headers),
            )
        })
    };
    match (
        answer(id, case),
        answer(&format!("{id}/reference"), reference),
    ) {
        (Ok(got), Ok(want)) if got == want => Vec::new(),
        (Ok(got), Ok(want)) => vec![format!(
            "expected the answer to the changed request {want:?}, got {got:?}"
        )],
        (Err(e), _) | (_, Err(e)) => vec![e],
    }
}

/// The decisions recorded since `before`, once they equal `want` or
/// [`RECORD_DELAY`] has passed.
fn recorded_since(
    proxy: &dyn Proxy,
    before: &BTreeMap<String, u64>,
    want: &BTreeMap<String, u64>,
) -> BTreeMap<String, u64> {
    let deadline = Instant::now() + RECORD_DELAY;
    loop {
        let got: BTreeMap<String, u64> = proxy
            .recorded()
            .into_iter()
            .map(|(outcome, n)| {
                let delta = n - before.get(&outcome).copied().unwrap_or(0);
                (outcome, delta)
            })
            .filter(|(_, delta)| *delta > 0)
            .collect();
        if &got == want || want.is_empty() || Instant::now() > deadline {
            return got;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}
