//! What the Envoy deploy kit (deploy/envoy/envoy.yaml) sets around the
//! module, checked in real Envoy with the kit's own file:
//! - the `/healthz` route turns the `cors` filter off
//!   (`typed_per_filter_config`), so even a policy covering every path does
//!   not touch it, while the other routes are filtered;
//! - the same per-route switch in the bootstrap generator (what
//!   scripts/bench-envoy.sh measures): a request on such a route never
//!   enters the module, whatever its method and origin;
//! - `path_with_escaped_slashes_action` answers a path with `%2F` by a
//!   redirect to the unescaped path, before any filter sees it.
//!
//! Needs Envoy (`scripts/setup.sh`) and the module (`scripts/build-wasm.sh
//! envoy`); fails, never skips, without them.

use e2e::client::Request;
use e2e::envoy::{Bootstrap, Envoy, Filter, Target};
use e2e::kit;
use e2e::upstream::Upstream;
use serde_json::json;

/// One policy over every host and path that rejects any other origin.
const EVERYWHERE: &str = r#"{"policies": [
    {"name": "everywhere", "allow_origins": ["https://app.example.com"], "disallowed": "reject"}
]}"#;

#[test]
fn the_kit_turns_the_filter_off_on_healthz_and_redirects_escaped_slashes() {
    let upstream = Upstream::start();
    let mut bootstrap = kit::envoy_yaml(upstream.addr());
    *kit::plugin_json(kit::cors_filter(&mut bootstrap)) = json!(EVERYWHERE);
    let envoy = Envoy::start_with(&bootstrap, &[]).unwrap_or_else(|failure| panic!("{failure}"));
    let get = |path: &str| {
        Request::new("GET", path)
            .header("Host", "api.example.com")
            .header("Origin", "https://evil.example.net")
            .send(envoy.listener())
            .expect("an answer")
    };

    assert_eq!(get("/api/orders").status, 403, "the filter runs elsewhere");
    let counted = envoy.outcome_counters();
    let health = get("/healthz");
    assert_eq!(health.status, 200, "the filter is off on /healthz");
    assert!(
        upstream.requests().iter().any(|r| r.path == b"/healthz"),
        "/healthz reached the upstream"
    );
    assert_eq!(
        envoy.outcome_counters(),
        counted,
        "/healthz is never counted"
    );

    let escaped = get("/api%2Forders");
    assert_eq!(escaped.status, 307, "an escaped slash is redirected");
    assert_eq!(escaped.header("location"), Some(&b"/api/orders"[..]));
}

#[test]
fn a_route_with_the_filter_off_never_enters_the_module() {
    let upstream = Upstream::start();
    let mut bootstrap = Bootstrap::new(
        Filter::module(EVERYWHERE),
        Target::Upstream(upstream.addr()),
    );
    bootstrap.filter_off = vec!["/assets/".to_string()];
    let envoy = Envoy::start_with(&bootstrap.to_json(), &[]).unwrap_or_else(|f| panic!("{f}"));
    let send = |method: &str, path: &str| {
        Request::new(method, path)
            .header("Host", "www.example.com")
            .header("Origin", "https://evil.example.net")
            .header("Access-Control-Request-Method", "PUT")
            .send(envoy.listener())
            .expect("an answer")
    };

    assert_eq!(
        send("GET", "/app.js").status,
        403,
        "the filter runs elsewhere"
    );
    let counted = envoy.outcome_counters();
    assert_eq!(counted.values().sum::<u64>(), 1, "{counted:?}");

    for method in ["GET", "OPTIONS"] {
        let answer = send(method, "/assets/app.js");
        assert_eq!(answer.status, 200, "{method}: the upstream's answer");
        assert_eq!(answer.header("access-control-allow-origin"), None);
    }
    let reached: Vec<_> = upstream
        .requests()
        .into_iter()
        .filter(|r| r.path == b"/assets/app.js")
        .map(|r| r.method)
        .collect();
    assert_eq!(
        reached,
        [&b"GET"[..], b"OPTIONS"],
        "both went to the upstream"
    );
    assert_eq!(envoy.outcome_counters(), counted, "neither was counted");
}
