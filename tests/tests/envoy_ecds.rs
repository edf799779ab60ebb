//! The deploy kit's ECDS variant (deploy/envoy/envoy-ecds.yaml with
//! ecds-cors.yaml), the way Istio delivers a WasmPlugin: the filter's config
//! is a resource of its own, read from a watched file and replaced under a
//! flood of valid and hostile requests.
//!
//! - A valid new config takes effect (an origin only it allows gets a 204)
//!   and not one request fails, not even on kept-alive connections: ECDS
//!   changes the filter for new requests without touching the listener.
//! - A config the module refuses is rejected and visible: Envoy's
//!   `update_rejected` counter, the module's refusal lines naming policy,
//!   field and value, and `cors_config_info` still naming the old config,
//!   which keeps serving.
//!
//! Needs Envoy (`scripts/setup.sh`) and the module (`scripts/build-wasm.sh
//! envoy`); fails, never skips, without them.

use e2e::client::Response;
use e2e::envoy::{self, Envoy};
use e2e::flood::{self, Connection};
use e2e::hostile::{api, CONFIG};
use e2e::kit;
use e2e::upstream::Upstream;
use e2e::{wait_for, TempDir};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How long an update may take to show (it takes milliseconds).
const PATIENCE: Duration = Duration::from_secs(20);
/// Requests per round of the load loop, which checks for the stop between
/// rounds.
const ROUND: u64 = 2_000;
/// How long the load runs before and after each update.
const SETTLE: Duration = Duration::from_secs(1);
/// An origin that only the new configuration allows.
const NEW_ORIGIN: &str = "https://new.example.net";
/// Envoy's counters for this ECDS resource.
const ECDS_STATS: &str = "extension_config_discovery.http_filter.cors";

/// Writes the kit's ECDS resource with `plugin_json` the way the kit says to
/// push one: beside the live file, then renamed over it.
fn publish(resource: &Value, dir: &Path, plugin_json: &str) {
    let mut resource = resource.clone();
    *kit::plugin_json(&mut resource["resources"][0]["typed_config"]) = json!(plugin_json);
    let staged = dir.join("next.yaml");
    std::fs::write(&staged, resource.to_string()).expect("write the ECDS file");
    std::fs::rename(&staged, dir.join("ecds-cors.yaml")).expect("move the ECDS file into place");
}

/// A preflight from [`NEW_ORIGIN`]: 204 once the new config serves, 403 before.
fn probe(proxy: SocketAddr) -> Response {
    let request = api(b"OPTIONS", b"/api/items")
        .header("Origin", NEW_ORIGIN)
        .header("Access-Control-Request-Method", "PUT");
    Connection::new(proxy)
        .send(&request)
        .unwrap_or_else(|e| panic!("no answer to the probe: {e:?}"))
}

fn stat(envoy: &Envoy, name: &str) -> u64 {
    envoy.stats().get(name).copied().unwrap_or_default()
}

/// `cors_config_info` for the config whose JSON is `plugin_json`.
fn live(envoy: &Envoy, plugin_json: &str, policies: usize) -> u64 {
    let hash = kit::config_hash(plugin_json);
    stat(
        envoy,
        &format!("wasmcustom.config_hash=.={hash};.;policies=.={policies};.;cors_config_info"),
    )
}

#[test]
fn ecds_updates_lose_no_request_and_a_refused_one_keeps_the_old_config() {
    let upstream = Upstream::start_unrecorded();
    let watched = TempDir::new("e2e-ecds");
    let (bootstrap, resource) = kit::ecds(watched.path(), upstream.addr());
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
    publish(&resource, watched.path(), CONFIG);
    let envoy = Envoy::start_with(&bootstrap, &[]).unwrap_or_else(|failure| panic!("{failure}"));
    let proxy = envoy.listener();
    assert_eq!(probe(proxy).status, 403, "not allowed before the update");
    assert_eq!(live(&envoy, CONFIG, 2), 1, "the first config is live");

    let stop = AtomicBool::new(false);
    let report = std::thread::scope(|scope| {
        let loader = scope.spawn(|| flood::load_until(proxy, &stop, ROUND, "during an update"));
        std::thread::sleep(SETTLE);

        let updates = stat(&envoy, &format!("{ECDS_STATS}.update_success"));
        publish(&resource, watched.path(), &new_config);
        wait_for("the new config allows its origin", PATIENCE, || {
            probe(proxy).status == 204
        });
        for _ in 0..20 {
            assert_eq!(probe(proxy).status, 204, "a request got the old config");
        }
        assert_eq!(
            stat(&envoy, &format!("{ECDS_STATS}.update_success")),
            updates + 1
        );
        assert_eq!(live(&envoy, &new_config, 2), 1, "the new config is live");
        assert_eq!(live(&envoy, CONFIG, 2), 0, "the old config is not");
        std::thread::sleep(SETTLE);

        publish(&resource, watched.path(), &bad_config);
        wait_for("the refused config is rejected", PATIENCE, || {
            stat(&envoy, &format!("{ECDS_STATS}.update_rejected")) == 1
        });
        for _ in 0..20 {
            assert_eq!(probe(proxy).status, 204, "the last good config serves");
        }
        std::thread::sleep(SETTLE);
        stop.store(true, Ordering::Relaxed);
        loader.join().expect("the load thread panicked")
    });

    eprintln!(
        "Envoy ECDS: {} requests during two updates ({} valid, {} hostile), {} failed, \
         {} sent again after a kept-alive connection closed unanswered",
        report.total(),
        report.valid,
        report.hostile,
        report.failures,
        report.resent,
    );
    assert_eq!(
        report.failures,
        0,
        "{} of {} requests failed during the updates; the first:\n{}",
        report.failures,
        report.total(),
        report.failure_lines.join("\n")
    );
    assert_eq!(
        live(&envoy, &new_config, 2),
        1,
        "the good config stays live"
    );
    assert_eq!(
        stat(&envoy, &format!("{ECDS_STATS}.update_rejected")),
        1,
        "only the refused config is rejected"
    );
    let log = envoy.log();
    let refusal = log
        .lines()
        .find(|line| line.contains("config refused"))
        .unwrap_or_else(|| panic!("no refusal in the log:\n{log}"));
    for needle in [r#"policy "api""#, "allow_origins[2]", r#""https://*.com""#] {
        assert!(refusal.contains(needle), "{refusal} does not name {needle}");
    }
    let summary = format!(
        "config {} refused, 1 problem",
        kit::config_hash(&bad_config)
    );
    assert!(log.contains(&summary), "no `{summary}` in the log:\n{log}");
    let traps = envoy::trap_lines(&log);
    assert!(traps.is_empty(), "{}", traps.join("\n"));
}

/// A first config the module refuses leaves the filter without a config:
/// Envoy starts, but answers every request 500 (never forwards it without
/// the policy) until a config it accepts arrives.
#[test]
fn a_refused_first_config_fails_closed_until_a_good_one_arrives() {
    let upstream = Upstream::start();
    let watched = TempDir::new("e2e-ecds-first");
    let (bootstrap, resource) = kit::ecds(watched.path(), upstream.addr());
    let refused = CONFIG.replacen(
        r#""https://app.example.com","#,
        r#""https://app.example.com", "https://*.com","#,
        1,
    );
    publish(&resource, watched.path(), &refused);
    let envoy = Envoy::start_with(&bootstrap, &[]).unwrap_or_else(|failure| panic!("{failure}"));
    let proxy = envoy.listener();
    let get = || {
        let request = api(b"GET", b"/api/items").header("Origin", "https://evil.example.net");
        Connection::new(proxy)
            .send(&request)
            .unwrap_or_else(|e| panic!("no answer: {e:?}"))
    };
    assert_eq!(get().status, 500, "served without a config");
    assert!(
        upstream.requests().is_empty(),
        "a request reached the upstream"
    );

    publish(&resource, watched.path(), CONFIG);
    wait_for("the good config serves", PATIENCE, || get().status == 403);
    assert_eq!(live(&envoy, CONFIG, 2), 1, "the good config is live");
}
