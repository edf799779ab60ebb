//! 100,000 requests through real Envoy running the module: valid requests
//! with exactly known answers interleaved with hostile ones, over several
//! kept-alive connections. Every valid request must get exactly its answer,
//! no request may show the VM failing, no VM may be replaced, and Envoy's
//! memory must stay flat once warmed up: a leak per request, or a trap that
//! fails every later request, shows up here where a handful of requests
//! would not show it.
//!
//! Needs Envoy (`scripts/setup.sh`) and the module (`scripts/build-wasm.sh
//! envoy`); fails, never skips, without them.

use e2e::envoy::{self, Envoy};
use e2e::flood::{self, Plan, Report};
use e2e::hostile::CONFIG;
use e2e::upstream::Upstream;

/// Requests in all, warm-up included.
const TOTAL: u64 = 100_000;
/// Requests before the first memory sample: enough for the module's linear
/// memory, Envoy's buffers and its allocator to reach their working size
/// (every shared hostile request, the largest ones included, is sent in it).
const WARM_UP: u64 = 5_000;
/// Client threads, each with its own connection: enough to keep Envoy's one
/// worker busy on a 2-core machine.
const THREADS: u64 = 4;
/// The growth allowed after warm-up, in percent.
const MAX_GROWTH_PERCENT: u64 = 5;

/// Under the default fail-closed policy, a trapped VM answers 503; Envoy
/// answers nothing else in 5xx here (the upstream is up and answers 200).
fn crashed(response: &e2e::client::Response) -> Option<String> {
    (response.status >= 500).then(|| format!("{}: the VM may have failed", response.status))
}

fn assert_clean(report: &Report, phase: &str) {
    assert_eq!(
        report.failures,
        0,
        "{phase}: {} of {} requests failed; the first:\n{}",
        report.failures,
        report.total(),
        report.failure_lines.join("\n")
    );
}

#[test]
fn a_flood_of_valid_and_hostile_requests_gets_right_answers_and_leaves_memory_flat() {
    let upstream = Upstream::start_unrecorded();
    let envoy = Envoy::start(CONFIG, upstream.addr(), &[]).unwrap_or_else(|failure| {
        panic!(
            "Envoy did not start ({:?}):\n{}",
            failure.status, failure.log
        )
    });
    let vm_before = envoy.vm_stats();
    let plan = Plan::new(flood::seed(), |_| true);

    let warm_up = flood::run(envoy.listener(), &plan, 0..WARM_UP, THREADS, &crashed);
    assert_clean(&warm_up, "warm-up");
    let rss_warm = flood::settled_rss_kib(envoy.pid());
    let rest = flood::run(envoy.listener(), &plan, WARM_UP..TOTAL, THREADS, &crashed);
    assert_clean(&rest, "after warm-up");
    let rss_end = flood::settled_rss_kib(envoy.pid());

    eprintln!(
        "Envoy flood: {} requests ({} valid, {} hostile, {} sent again after a \
         kept-alive connection closed); RSS {rss_warm} KiB after warm-up, {rss_end} KiB at the end",
        warm_up.total() + rest.total(),
        warm_up.valid + rest.valid,
        warm_up.hostile + rest.hostile,
        warm_up.resent + rest.resent,
    );
    assert_eq!(warm_up.total() + rest.total(), TOTAL);
    assert_eq!(envoy.vm_stats(), vm_before, "a VM was replaced or reloaded");
    let log = envoy.log();
    let mut bad_lines = envoy::trap_lines(&log);
    // With no config change, nothing may fail at all: a VM that failed to
    // start or to answer logs `failed`.
    bad_lines.extend(log.lines().filter(|line| line.contains("failed")));
    assert!(bad_lines.is_empty(), "{}", bad_lines.join("\n"));
    assert!(
        rss_end * 100 < rss_warm * (100 + MAX_GROWTH_PERCENT),
        "Envoy grew from {rss_warm} KiB after warm-up to {rss_end} KiB, over {MAX_GROWTH_PERCENT}%"
    );
}
