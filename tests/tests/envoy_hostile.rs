//! Malformed and hostile traffic through real Envoy running the module, over
//! HTTP/1.1 and HTTP/2 (the shared checks of [`e2e::hostile`]); and what only
//! Envoy shows: shadow counters, debug logging, refused configs on a real
//! start.
//!
//! A panic in the module traps the V8 VM, and Envoy then fails every later
//! request on that worker; so every hostile request must get an answer, the
//! VM must never be replaced or reloaded, and a valid preflight afterwards
//! must still get exactly the right answer.
//!
//! Needs Envoy (`scripts/setup.sh`) and the module (`scripts/build-wasm.sh
//! envoy`); fails, never skips, without them.

use e2e::client::Request;
use e2e::envoy::Envoy;
use e2e::hostile::{self, api, preflight, CONFIG};
use e2e::proxy::Runtime;
use e2e::upstream::{self, Upstream};
use e2e::vectors::{cors_headers, lines};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

fn start(config: &str, upstream: &Upstream, extra_args: &[&str]) -> Envoy {
    Envoy::start(config, upstream.addr(), extra_args).unwrap_or_else(|failure| panic!("{failure}"))
}

#[test]
fn hostile_requests_get_answers_and_the_vm_survives() {
    hostile::assert_hostile_requests_answered(Runtime::Envoy);
}

#[test]
fn hostile_requests_over_http2_get_answers_and_the_vm_survives() {
    hostile::assert_hostile_requests_answered(Runtime::EnvoyHttp2);
}

#[test]
fn hostile_values_are_never_echoed() {
    hostile::assert_hostile_values_not_echoed(Runtime::Envoy);
}

#[test]
fn hostile_values_over_http2_are_never_echoed() {
    hostile::assert_hostile_values_not_echoed(Runtime::EnvoyHttp2);
}

#[test]
fn several_origin_lines_match_nothing_even_when_identical() {
    hostile::assert_two_identical_origins_rejected(Runtime::Envoy);
}

#[test]
fn several_origin_fields_over_http2_match_nothing_even_when_identical() {
    hostile::assert_two_identical_origins_rejected(Runtime::EnvoyHttp2);
}

#[test]
fn sec_fetch_site_on_several_lines_is_not_same_origin() {
    hostile::assert_sec_fetch_site_on_several_lines_is_not_same_origin(Runtime::Envoy);
}

#[test]
fn shadow_mode_changes_nothing_on_the_wire_but_counts() {
    let config = CONFIG.replacen('{', r#"{"mode": "shadow", "#, 1);
    let upstream = Upstream::start();
    let envoy = start(&config, &upstream, &[]);
    let upstream_says = lines(&[
        ("Access-Control-Allow-Origin", "https://upstream.example"),
        ("Access-Control-Max-Age", "5"),
        ("Vary", "Accept-Encoding"),
    ]);
    let cases = [
        ("allowed preflight", preflight(), "preflight_allowed"),
        (
            "preflight from a disallowed origin",
            api(b"OPTIONS", b"/api/items")
                .header("Origin", "https://evil.example.net")
                .header("Access-Control-Request-Method", "PUT"),
            "preflight_denied_origin",
        ),
        (
            "allowed actual request",
            api(b"GET", b"/api/items").header("Origin", "https://app.example.com"),
            "actual_allowed",
        ),
        (
            "request that enforce mode rejects",
            api(b"GET", b"/api/items").header("Origin", "https://evil.example.net"),
            "actual_rejected",
        ),
        (
            "request without Origin",
            api(b"GET", b"/api/items"),
            "actual_no_origin",
        ),
    ];
    let mut expected_counts = BTreeMap::new();
    for (i, (label, request, outcome)) in cases.into_iter().enumerate() {
        let id = format!("shadow-{i}");
        let (name, value) = upstream::instructions(&upstream_says);
        let response = request
            .header(upstream::ID_HEADER, id.as_str())
            .header(name, value)
            .send(envoy.listener())
            .unwrap();
        assert!(upstream.saw(&id), "{label}: not forwarded");
        assert_eq!(response.status, 200, "{label}");
        let unchanged = cors_headers(&upstream_says);
        assert_eq!(cors_headers(&response.headers), unchanged, "{label}");
        *expected_counts.entry(outcome.to_string()).or_insert(0) += 1;
    }
    let counters = envoy.decision_counters();
    let shadow_counters: BTreeMap<String, u64> = counters
        .iter()
        .filter(|((policy, mode, _), &value)| policy == "api" && mode == "shadow" && value > 0)
        .map(|((_, _, outcome), &value)| (outcome.clone(), value))
        .collect();
    assert_eq!(shadow_counters, expected_counts);
    assert!(
        counters.keys().all(|(_, mode, _)| mode == "shadow"),
        "shadow counters only"
    );
}

/// Polls the log until `needle` shows up (the log is flushed every 20 ms).
fn log_contains(envoy: &Envoy, needle: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if envoy.log().contains(needle) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

#[test]
fn denials_are_logged_with_their_reason_at_debug_only() {
    let upstream = Upstream::start();
    let envoy = start(CONFIG, &upstream, &[]);
    let deny = |origin: &[u8]| {
        let response = api(b"OPTIONS", b"/api/items")
            .header("Origin", origin.to_vec())
            .header("Access-Control-Request-Method", "PUT")
            .send(envoy.listener())
            .unwrap();
        assert_eq!(response.status, 403);
    };
    deny(b"https://quiet.example.net");
    let marker = "https://marker.example.net";
    deny(marker.as_bytes());
    assert!(!log_contains(&envoy, marker), "no debug line at info level");
    let switched = Request::new("POST", "/logging?wasm=debug")
        .header("Host", "admin")
        .header("Content-Length", "0")
        .send(envoy.admin())
        .unwrap();
    assert_eq!(switched.status, 200);
    deny(b"https://evil.example.net\xff\"");
    let line = r#"policy "api": preflight_denied_origin: origin "https://evil.example.net\xff\x22" is not in allow_origins"#;
    assert!(log_contains(&envoy, line), "{}", envoy.log());
    let response = api(b"OPTIONS", b"/api/items")
        .header("Origin", "https://app.example.com")
        .header("Access-Control-Request-Method", "PATCH")
        .send(envoy.listener())
        .unwrap();
    assert_eq!(response.status, 403);
    let line = r#"policy "api": preflight_denied_method: method "PATCH" is not in allow_methods"#;
    assert!(log_contains(&envoy, line), "{}", envoy.log());
}

#[test]
fn a_refused_config_stops_a_real_envoy_naming_policy_field_and_value() {
    let upstream = Upstream::start();
    for (config, expected) in [
        (
            r#"{"policies": [{"name": "api", "allow_origins": ["https://*.com"]}]}"#,
            &[r#"policy "api""#, "allow_origins[0]", r#""https://*.com""#][..],
        ),
        (
            r#"{"policies": [{"name": "creds", "allow_origins": ["*"], "allow_credentials": true,
                 "allow_methods": ["GET", "TRACE"]}]}"#,
            &[
                r#"policy "creds""#,
                "allow_origins[0]",
                r#""*""#,
                "allow_methods[1]",
                r#""TRACE""#,
            ],
        ),
        ("{not json", &["JSON"]),
    ] {
        let failure = match Envoy::start(config, upstream.addr(), &[]) {
            Ok(_) => panic!("Envoy started with a refused config: {config}"),
            Err(failure) => failure,
        };
        let status = failure.status.expect("Envoy exited rather than hung");
        assert!(!status.success(), "{config}: exit status {status}");
        let refusals: Vec<&str> = failure
            .log
            .lines()
            .filter(|line| line.contains("config refused"))
            .collect();
        for needle in expected {
            assert!(
                refusals.iter().any(|line| line.contains(needle)),
                "{config}: no refusal line names {needle}:\n{}",
                failure.log
            );
        }
    }
}

#[test]
fn a_response_without_cors_headers_passes_out_of_scope_untouched() {
    let upstream = Upstream::start();
    let envoy = start(CONFIG, &upstream, &[]);
    let upstream_says = lines(&[
        ("Access-Control-Allow-Origin", "https://upstream.example"),
        ("Vary", "Accept-Encoding"),
    ]);
    let (name, value) = upstream::instructions(&upstream_says);
    let response = Request::new("OPTIONS", "/elsewhere")
        .header("Host", "api.example.com")
        .header("Origin", "https://app.example.com")
        .header("Access-Control-Request-Method", "PUT")
        .header(upstream::ID_HEADER, "out-of-scope")
        .header(name, value)
        .send(envoy.listener())
        .unwrap();
    assert!(upstream.saw("out-of-scope"));
    assert_eq!(response.status, 200);
    assert_eq!(
        cors_headers(&response.headers),
        cors_headers(&upstream_says),
        "unchanged"
    );
    assert!(envoy.outcome_counters().values().all(|&count| count == 0));
    let recorded = upstream.requests();
    assert_eq!(
        recorded[0].header("origin"),
        Some(&b"https://app.example.com"[..]),
        "request headers reach the upstream untouched"
    );
}
