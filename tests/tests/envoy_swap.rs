//! Plugin configuration swapped under load: Envoy reads its listener from
//! a watched file (LDS from a path, as a control plane such as Istio's
//! would push it), and a flood of valid and hostile requests runs while the
//! file is replaced.
//!
//! - A new valid configuration takes effect (an origin only it allows gets
//!   a 204) and no request fails during the swap: kept-alive connections on
//!   the old filter chain are drained, and a request that a draining
//!   connection closed before answering is sent again, as any HTTP client
//!   does on a reused connection; nothing else may go wrong.
//! - An invalid one is refused: the listener update is rejected, the module
//!   logs the policy, field and value, and the last good configuration keeps
//!   serving.
//!
//! Needs Envoy (`scripts/setup.sh`) and the module (`scripts/build-wasm.sh
//! envoy`); fails, never skips, without them.

use e2e::client::Response;
use e2e::envoy::{self, Bootstrap, Envoy, Filter, Target};
use e2e::flood;
use e2e::hostile::{api, CONFIG};
use e2e::upstream::Upstream;
use e2e::{wait_for, TempDir};
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How long a listener update may take to show (it takes milliseconds).
const PATIENCE: Duration = Duration::from_secs(20);
/// Requests per round of the load loop, which checks for the stop between
/// rounds: enough (about a second) that kept-alive connections live across
/// a swap and are drained.
const ROUND: u64 = 4_000;
/// How long the load runs before and after each swap.
const SETTLE: Duration = Duration::from_secs(1);

/// An origin that only the new configuration allows.
const NEW_ORIGIN: &str = "https://new.example.net";

/// The module with `plugin_config` on `127.0.0.1:port`, in front of `upstream`.
fn bootstrap(plugin_config: &str, upstream: SocketAddr, port: u16) -> Bootstrap {
    let mut bootstrap = Bootstrap::new(Filter::module(plugin_config), Target::Upstream(upstream));
    bootstrap.port = port;
    bootstrap
}

/// Replaces the LDS file with `bootstrap`'s listener the way a config push
/// should: written beside it, then renamed over it, so Envoy never reads
/// half a file.
fn publish(dir: &Path, bootstrap: &Bootstrap) {
    let staged = dir.join("lds.json.new");
    std::fs::write(&staged, bootstrap.lds_file().to_string()).expect("write the LDS file");
    std::fs::rename(&staged, dir.join("lds.json")).expect("move the LDS file into place");
}

/// A port that was free a moment ago: the listener's address must stay the
/// same across updates, so Envoy cannot pick it.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("bind port 0")
}

/// A preflight from [`NEW_ORIGIN`] on a new connection: 204 once the new
/// configuration serves, 403 before.
fn probe(proxy: SocketAddr) -> Response {
    api(b"OPTIONS", b"/api/items")
        .header("Origin", NEW_ORIGIN)
        .header("Access-Control-Request-Method", "PUT")
        .send(proxy)
        .expect("an answer to the probe")
}

fn stat(envoy: &Envoy, name: &str) -> u64 {
    envoy.stats().get(name).copied().unwrap_or_default()
}

#[test]
fn a_new_config_takes_effect_under_load_and_a_bad_one_is_refused() {
    let upstream = Upstream::start_unrecorded();
    let watched = TempDir::new("e2e-lds");
    let port = free_port();
    let new_config = CONFIG.replacen(
        r#""https://app.example.com","#,
        &format!(r#""https://app.example.com", "{NEW_ORIGIN}","#),
        1,
    );
    let bad_config = new_config.replacen(
        &format!(r#""{NEW_ORIGIN}","#),
        &format!(r#""{NEW_ORIGIN}", "https://*.com","#),
        1,
    );
    let up = upstream.addr();
    publish(watched.path(), &bootstrap(CONFIG, up, port));
    let bootstrap_json =
        bootstrap(CONFIG, up, port).to_json_with_lds(&watched.path().join("lds.json"));
    // Old connections drain for 2 s instead of 10 minutes.
    let envoy = Envoy::start_with(&bootstrap_json, &["--drain-time-s", "2"])
        .unwrap_or_else(|failure| panic!("{failure}"));
    let proxy = envoy.listener();
    assert_eq!(probe(proxy).status, 403, "not allowed before the swap");

    let stop = AtomicBool::new(false);
    let report = std::thread::scope(|scope| {
        let loader = scope.spawn(|| flood::load_until(proxy, &stop, ROUND, "during a swap"));
        std::thread::sleep(SETTLE);

        let updates = stat(&envoy, "listener_manager.lds.update_success");
        publish(watched.path(), &bootstrap(&new_config, up, port));
        wait_for("the new config allows its origin", PATIENCE, || {
            probe(proxy).status == 204
        });
        for _ in 0..20 {
            assert_eq!(
                probe(proxy).status,
                204,
                "a new connection got the old config"
            );
        }
        assert_eq!(
            stat(&envoy, "listener_manager.lds.update_success"),
            updates + 1
        );
        std::thread::sleep(SETTLE);

        publish(watched.path(), &bootstrap(&bad_config, up, port));
        wait_for("the bad config is rejected", PATIENCE, || {
            stat(&envoy, "listener_manager.lds.update_rejected") == 1
        });
        for _ in 0..20 {
            assert_eq!(probe(proxy).status, 204, "the last good config serves");
        }
        std::thread::sleep(SETTLE);
        stop.store(true, Ordering::Relaxed);
        loader.join().expect("the load thread panicked")
    });

    eprintln!(
        "Envoy swap: {} requests during two swaps ({} valid, {} hostile), {} failed, \
         {} sent again after a draining connection closed unanswered",
        report.total(),
        report.valid,
        report.hostile,
        report.failures,
        report.resent,
    );
    assert_eq!(
        report.failures,
        0,
        "{} of {} requests failed during the swaps; the first:\n{}",
        report.failures,
        report.total(),
        report.failure_lines.join("\n")
    );
    let log = envoy.log();
    let refusal = log
        .lines()
        .find(|line| line.contains("config refused"))
        .unwrap_or_else(|| panic!("no refusal in the log:\n{log}"));
    for needle in [r#"policy "api""#, "allow_origins[2]", r#""https://*.com""#] {
        assert!(refusal.contains(needle), "{refusal} does not name {needle}");
    }
    let traps = envoy::trap_lines(&log);
    assert!(traps.is_empty(), "{}", traps.join("\n"));
    assert_eq!(
        stat(&envoy, "listener_manager.lds.update_rejected"),
        1,
        "only the bad config is rejected"
    );
}
