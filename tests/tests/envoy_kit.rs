//! What the Envoy deploy kit (deploy/envoy/envoy.yaml) sets around the
//! module, checked in real Envoy with the kit's own file:
//! - the `/healthz` route turns the `cors` filter off
//!   (`typed_per_filter_config`), so even a policy covering every path does
//!   not touch it, while the other routes are filtered; the same with the
//!   filter delivered by ECDS (envoy-ecds.yaml), as Istio delivers it;
//! - the same per-route switch in the bootstrap generator (what
//!   scripts/bench-envoy.sh measures): a request on such a route never
//!   enters the module, whatever its method and origin;
//! - `path_with_escaped_slashes_action` answers a path with `%2F` by a
//!   redirect to the unescaped path, before any filter sees it.
//!
//! Needs Envoy (`scripts/setup.sh`) and the module (`scripts/build-wasm.sh
//! envoy`); fails, never skips, without them.

use e2e::client::{Request, Response};
use e2e::envoy::{Bootstrap, Envoy, Filter, Target};
use e2e::kit;
use e2e::upstream::Upstream;
use e2e::TempDir;
use serde_json::json;

/// One policy over every host and path that rejects any other origin.
const EVERYWHERE: &str = r#"{"policies": [
    {"name": "everywhere", "allow_origins": ["https://app.example.com"], "disallowed": "reject"}
]}"#;

/// A request from an origin [`EVERYWHERE`] rejects; an OPTIONS is a preflight.
fn send(envoy: &Envoy, method: &str, path: &str) -> Response {
    let request = Request::new(method, path)
        .header("Host", "api.example.com")
        .header("Origin", "https://evil.example.net");
    let request = match method {
        "OPTIONS" => request.header("Access-Control-Request-Method", "PUT"),
        _ => request,
    };
    request.send(envoy.listener()).expect("an answer")
}

fn get(envoy: &Envoy, path: &str) -> Response {
    send(envoy, "GET", path)
}

/// The filter rejects on /api/orders, and is never entered on /healthz.
fn assert_off_on_healthz(envoy: &Envoy, upstream: &Upstream) {
    assert_eq!(
        get(envoy, "/api/orders").status,
        403,
        "the filter runs elsewhere"
    );
    let counted = envoy.outcome_counters();
    assert_eq!(
        get(envoy, "/healthz").status,
        200,
        "the filter is off on /healthz"
    );
    assert!(
        upstream.requests().iter().any(|r| r.path == b"/healthz"),
        "/healthz reached the upstream"
    );
    assert_eq!(
        envoy.outcome_counters(),
        counted,
        "/healthz is never counted"
    );
}

#[test]
fn the_kit_turns_the_filter_off_on_healthz_and_redirects_escaped_slashes() {
    let upstream = Upstream::start();
    let mut bootstrap = kit::envoy_yaml(upstream.addr());
    *kit::plugin_json(kit::cors_filter(&mut bootstrap)) = json!(EVERYWHERE);
    let envoy = Envoy::start_with(&bootstrap, &[]).unwrap_or_else(|failure| panic!("{failure}"));

    assert_off_on_healthz(&envoy, &upstream);
    let escaped = get(&envoy, "/api%2Forders");
    assert_eq!(escaped.status, 307, "an escaped slash is redirected");
    assert_eq!(escaped.header("location"), Some(&b"/api/orders"[..]));
}

/// Istio delivers a WasmPlugin by ECDS, as this kit variant does: the route's
/// switch addresses the filter by name all the same.
#[test]
fn the_ecds_kit_turns_the_filter_off_on_healthz() {
    let upstream = Upstream::start();
    let watched = TempDir::new("e2e-kit-ecds");
    let (bootstrap, mut resource) = kit::ecds(watched.path(), upstream.addr());
    *kit::plugin_json(&mut resource["resources"][0]["typed_config"]) = json!(EVERYWHERE);
    std::fs::write(watched.path().join("ecds-cors.yaml"), resource.to_string())
        .expect("write the ECDS file");
    let envoy = Envoy::start_with(&bootstrap, &[]).unwrap_or_else(|failure| panic!("{failure}"));

    assert_off_on_healthz(&envoy, &upstream);
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
    let send = |method: &str, path: &str| send(&envoy, method, path);

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

/// The other way round: the module wrapped in an `ExtensionWithMatcher`
/// whose matcher skips it for every path outside `/api/`, as
/// envoy-filter/README.md shows, so that a filter on the whole listener runs
/// only where a policy can apply.
#[test]
fn a_matcher_skips_the_module_outside_the_paths_it_names() {
    let upstream = Upstream::start();
    let mut bootstrap = Bootstrap::new(
        Filter::module(EVERYWHERE),
        Target::Upstream(upstream.addr()),
    );
    bootstrap.filter_only_under = Some("/api/".to_string());
    let bootstrap = bootstrap.to_json();
    let envoy = Envoy::start_with(&bootstrap, &[]).unwrap_or_else(|f| panic!("{f}"));
    let preflight = |path: &str| send(&envoy, "OPTIONS", path);

    assert_eq!(
        preflight("/api/items").status,
        403,
        "the module runs on /api/"
    );
    let counted = envoy.outcome_counters();
    assert_eq!(counted.values().sum::<u64>(), 1, "{counted:?}");
    assert_eq!(preflight("/assets/app.js").status, 200, "skipped elsewhere");
    assert!(
        upstream
            .requests()
            .iter()
            .any(|r| r.path == b"/assets/app.js"),
        "the preflight went on to the upstream"
    );
    assert_eq!(envoy.outcome_counters(), counted, "and was not counted");
}
