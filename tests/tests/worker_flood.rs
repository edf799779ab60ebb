//! 10,000 requests through real workerd running the Worker: the Envoy flood
//! (`envoy_flood.rs`) scaled down, since a Worker request costs more. Every
//! valid request must get exactly its answer (the same as from Envoy), no
//! request may get a 500, and workerd must log no trap: the worker-build
//! shim re-instantiates a trapped module on the next request, so only the
//! log shows a crash that later answers hide.
//!
//! Memory is not checked here: workerd's resident size keeps growing for
//! some 40,000 requests of this mix (about 120 MB to 260 MB, levelling off
//! there) as V8 sizes its heaps, so a 5% rule after a short warm-up would
//! fail for reasons that are not the Worker's.
//!
//! Needs workerd (`scripts/setup.sh`) and the built Worker
//! (`scripts/build-wasm.sh worker`); fails, never skips, without them.

use e2e::flood::{self, Plan};
use e2e::hostile::CONFIG;
use e2e::upstream::Upstream;
use e2e::workerd::{CorsConfig, Workerd};

/// Requests in all.
const TOTAL: u64 = 10_000;
/// Client threads, each with its own connection.
const THREADS: u64 = 4;

/// workerd answers 500 when the Worker throws or its module traps. (Its
/// own HTTP parser answers 501 to a method it does not know, before the
/// Worker runs: not a crash.)
fn crashed(response: &e2e::client::Response) -> Option<String> {
    (response.status == 500).then(|| {
        format!(
            "{}: {}",
            response.status,
            String::from_utf8_lossy(&response.body)
        )
    })
}

#[test]
fn a_flood_of_valid_and_hostile_requests_gets_right_answers_and_no_crash() {
    let upstream = Upstream::start_unrecorded();
    let origin_url = format!("http://{}", upstream.addr());
    let mut workerd =
        Workerd::start(CorsConfig::Text(CONFIG), Some(&origin_url)).unwrap_or_else(|failure| {
            panic!(
                "workerd did not start ({:?}):\n{}",
                failure.status, failure.log
            )
        });
    // workerd hands CONNECT to a connect() handler, which a fetch-only
    // Worker lacks; Cloudflare never routes CONNECT to a Worker.
    let plan = Plan::new(flood::seed(), |request| request.method != b"CONNECT");

    let report = flood::run(workerd.addr(), &plan, 0..TOTAL, THREADS, &crashed);
    eprintln!(
        "Worker flood: {} requests ({} valid, {} hostile, {} sent again after a \
         kept-alive connection closed)",
        report.total(),
        report.valid,
        report.hostile,
        report.resent,
    );
    assert_eq!(
        report.failures,
        0,
        "{} of {} requests failed; the first:\n{}",
        report.failures,
        report.total(),
        report.failure_lines.join("\n")
    );
    assert_eq!(report.total(), TOTAL);
    assert!(workerd.is_running(), "workerd exited");
    let crashes = workerd.crash_lines();
    assert!(crashes.is_empty(), "{}", crashes.join("\n"));
}
