//! The module's metrics as Prometheus sees them, through the deploy kit's
//! own Envoy config (deploy/envoy/envoy.yaml, with its `stats_tags`): after
//! known requests, `/stats/prometheus` holds one labelled series per policy,
//! mode and outcome with exactly those counts, and an info series naming the
//! live config by hash and policy count; the configure log line gives the
//! module's version and the same hash.
//!
//! Needs Envoy (`scripts/setup.sh`) and the module (`scripts/build-wasm.sh
//! envoy`); fails, never skips, without them.

use e2e::client::Request;
use e2e::envoy::Envoy;
use e2e::kit;
use e2e::upstream::Upstream;
use std::collections::BTreeMap;

/// A request to the kit's authenticated API host.
fn api(method: &str, path: &str) -> Request {
    Request::new(method, path).header("Host", "api.example.com")
}

/// `metric{labels} value` lines of a Prometheus text page, for one metric.
fn series(page: &str, metric: &str) -> BTreeMap<String, u64> {
    page.lines()
        .filter_map(|line| {
            let rest = line.strip_prefix(metric)?.strip_prefix('{')?;
            let (labels, value) = rest.split_once("} ")?;
            Some((labels.to_string(), value.trim().parse().ok()?))
        })
        .collect()
}

#[test]
fn prometheus_shows_labelled_decision_counters_and_the_live_config() {
    let upstream = Upstream::start();
    let mut bootstrap = kit::envoy_yaml(upstream.addr());
    let plugin_json = kit::plugin_json(kit::cors_filter(&mut bootstrap))
        .as_str()
        .map(str::to_string)
        .expect("a string");
    let envoy = Envoy::start_with(&bootstrap, &[]).unwrap_or_else(|failure| panic!("{failure}"));
    let proxy = envoy.listener();

    let preflight = |origin: &str| {
        api("OPTIONS", "/api/orders")
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "PUT")
    };
    let sent = [
        (preflight("https://app.example.com"), 204),
        (preflight("https://app.example.com"), 204),
        (preflight("https://app.example.com"), 204),
        (preflight("https://evil.example.net"), 403),
        (preflight("https://evil.example.net"), 403),
        (
            api("GET", "/api/orders").header("Origin", "https://evil.example.net"),
            403,
        ),
        (
            api("GET", "/public/catalog").header("Origin", "https://shop.example.net"),
            200,
        ),
        // Outside every policy, on the route that turns the filter off.
        (
            api("GET", "/healthz").header("Origin", "https://shop.example.net"),
            200,
        ),
    ];
    let count = sent.len();
    for (request, status) in sent {
        let response = request.send(proxy).expect("an answer");
        assert_eq!(response.status, status, "{request:?}");
    }

    let scrape = Request::new("GET", "/stats/prometheus")
        .header("Host", "admin")
        .send(envoy.admin())
        .expect("admin /stats/prometheus");
    assert_eq!(scrape.status, 200);
    let page = String::from_utf8_lossy(&scrape.body);
    assert!(
        page.contains("# TYPE cors_requests_total counter"),
        "no cors_requests_total counter in:\n{page}"
    );
    let counters = series(&page, "cors_requests_total");
    let nonzero: BTreeMap<&str, u64> = counters
        .iter()
        .filter(|(_, &value)| value > 0)
        .map(|(labels, &value)| (labels.as_str(), value))
        .collect();
    let expected = BTreeMap::from([
        (
            r#"policy="authenticated",mode="enforce",outcome="preflight_allowed""#,
            3,
        ),
        (
            r#"policy="authenticated",mode="enforce",outcome="preflight_denied_origin""#,
            2,
        ),
        (
            r#"policy="authenticated",mode="enforce",outcome="actual_rejected""#,
            1,
        ),
        (
            r#"policy="public",mode="enforce",outcome="actual_allowed""#,
            1,
        ),
    ]);
    assert_eq!(nonzero, expected, "the page:\n{page}");
    // Every outcome of both policies is there from the start, at 0.
    assert_eq!(counters.len(), 2 * 9, "{counters:#?}");

    let hash = kit::config_hash(&plugin_json);
    let info = series(&page, "cors_config_info");
    assert_eq!(
        info,
        BTreeMap::from([(format!(r#"config_hash="{hash}",policies="2""#), 1)]),
        "the page:\n{page}"
    );
    let configured = format!(
        "cors-filter {}: config {hash} serving, 2 policies",
        kit::module_version()
    );
    assert!(
        envoy.log().contains(&configured),
        "no `{configured}` in the log:\n{}",
        envoy.log()
    );
    eprintln!(
        "Envoy /stats/prometheus after {count} requests:\n{}",
        page.lines()
            .filter(|line| line.starts_with("cors_") && !line.ends_with(" 0"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
