//! Arbitrary requests and upstream responses against fixed configs (the
//! SPEC example; `disallowed: "reject"` with credentials, patterns and `*`;
//! the same in shadow mode): decide, then edit the response. Invariants:
//! never `Access-Control-Allow-Origin: *` with credentials; a preflight in
//! scope is never forwarded; shadow mode changes nothing; every answer in
//! scope whose `Access-Control-Allow-Origin` is not `*` has a `Vary` naming
//! `Origin`; an echoed origin is the request's own; no header value or log
//! line carries a byte that could split a header or a log line.

#![no_main]

use arbitrary::Arbitrary;
use filter_core::{Action, Config, CorsHeaders, Outcome, Request};
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

#[derive(Arbitrary, Debug)]
struct Input {
    config: u8,
    method: Vec<u8>,
    scheme: Vec<u8>,
    authority: Vec<u8>,
    path: Vec<u8>,
    origin: Option<Vec<u8>>,
    access_control_request_method: Option<Vec<u8>>,
    access_control_request_headers: Option<Vec<u8>>,
    access_control_request_private_network: Option<Vec<u8>>,
    sec_fetch_site: Option<Vec<u8>>,
    upstream: Vec<(Vec<u8>, Vec<u8>)>,
}

const SPEC_EXAMPLE: &str = r#"{"mode": "enforce", "policies": [
    {"name": "public", "match": {"paths": ["/public/*"]}, "allow_origins": ["*"],
     "allow_methods": ["GET"], "max_age": 600},
    {"name": "authenticated", "match": {"hosts": ["api.example.com"], "paths": ["/api/*"]},
     "allow_origins": ["https://app.example.com", "https://*.example.com", "http://localhost:*"],
     "allow_methods": ["GET", "POST", "PUT", "DELETE"],
     "allow_headers": ["Content-Type", "Authorization", "X-CSRF-Token"],
     "expose_headers": ["X-RateLimit-Remaining"], "allow_credentials": true, "max_age": 3600,
     "allow_private_network": false, "disallowed": "pass"}
]}"#;

const POLICIES: &str = r#""policies": [
    {"name": "strict", "match": {"hosts": ["api.example.com", "*.example.net"], "paths": ["/r/*"]},
     "allow_origins": ["https://app.example.com", "https://*.example.com", "http://localhost:*", "null"],
     "allow_methods": ["GET", "PUT"], "allow_headers": ["Content-Type", "*"],
     "expose_headers": ["X-Request-Id"], "max_age": 600, "allow_private_network": true,
     "disallowed": "reject"},
    {"name": "credentials", "match": {"paths": ["/c/*"]},
     "allow_origins": ["https://app.example.com", "http://127.0.0.1:*", "https://*.example.org:8443"],
     "allow_credentials": true, "allow_headers": ["Authorization"],
     "expose_headers": ["X-A", "X-B"], "disallowed": "reject"},
    {"name": "any", "allow_origins": ["*"], "allow_methods": ["*"], "allow_headers": ["*"],
     "expose_headers": ["*"], "allow_private_network": true}
]"#;

static CONFIGS: LazyLock<[Config; 3]> = LazyLock::new(|| {
    [
        SPEC_EXAMPLE.to_owned(),
        format!(r#"{{"mode": "enforce", {POLICIES}}}"#),
        format!(r#"{{"mode": "shadow", {POLICIES}}}"#),
    ]
    .map(|json| Config::from_json(json.as_bytes()).unwrap())
});

/// Whether a `Vary` value names `Origin`, or is `*`.
fn names_origin(vary: &[u8]) -> bool {
    vary.split(|&b| b == b',')
        .map(|n| n.trim_ascii())
        .any(|n| n == b"*" || n.eq_ignore_ascii_case(b"origin"))
}

/// No byte that ends or splits a header line, nothing outside ASCII.
fn is_safe_value(value: &str) -> bool {
    value
        .bytes()
        .all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
}

/// Checks every header but `Vary`, which may carry the upstream's own values.
fn check_headers(headers: &CorsHeaders, origin: Option<&[u8]>) {
    if let Some(allow_origin) = headers.allow_origin {
        assert!(
            !(allow_origin == "*" && headers.allow_credentials),
            "`*` with credentials"
        );
        if allow_origin != "*" {
            assert_eq!(
                Some(allow_origin.as_bytes()),
                origin,
                "echoed another origin"
            );
        }
    }
    for (name, value) in headers.iter().filter(|(name, _)| *name != "vary") {
        assert!(is_safe_value(value), "{name}: {value:?}");
    }
}

fuzz_target!(|input: Input| {
    let config = &CONFIGS[usize::from(input.config) % CONFIGS.len()];
    let Some(policy) = config.policy_for(&input.authority, &input.path) else {
        return;
    };
    let request = Request {
        method: &input.method,
        scheme: &input.scheme,
        authority: &input.authority,
        origin: input.origin.as_deref(),
        access_control_request_method: input.access_control_request_method.as_deref(),
        access_control_request_headers: input.access_control_request_headers.as_deref(),
        access_control_request_private_network: input
            .access_control_request_private_network
            .as_deref(),
        sec_fetch_site: input.sec_fetch_site.as_deref(),
    };
    let decision = policy.decide(&request);
    if let Some(denial) = decision.denial {
        let line = denial.to_string();
        assert!(!line.chars().any(char::is_control), "{line:?}");
    }
    assert_eq!(decision.shadow, config.is_shadow());
    assert_eq!(decision.to_carry_out().is_none(), config.is_shadow());
    match decision.action {
        Action::Respond { status, headers } => {
            check_headers(&headers, request.origin);
            assert_eq!(status == 204, decision.outcome == Outcome::PreflightAllowed);
            if status == 403 {
                assert!(
                    headers.iter().all(|(name, _)| name == "vary"),
                    "{headers:?}"
                );
            }
            if headers.allow_origin != Some("*") {
                let vary = headers.vary.as_deref().map(str::as_bytes);
                assert!(vary.is_some_and(names_origin), "{headers:?}");
            }
        }
        Action::Forward { allow_origin } => {
            assert!(!request.is_preflight(), "preflight forwarded");
            let upstream = input.upstream.iter().map(|(n, v)| (&n[..], &v[..]));
            let edits = policy.edit_response(allow_origin, upstream);
            check_headers(&edits.set, request.origin);
            let cors: Vec<&[u8]> = input
                .upstream
                .iter()
                .map(|(n, _)| &n[..])
                .filter(|n| n.len() >= 15 && n[..15].eq_ignore_ascii_case(b"access-control-"))
                .collect();
            assert_eq!(edits.remove, cors, "not every Access-Control-* removed");
            if edits.set.allow_origin != Some("*") {
                let vary = match edits.set.vary.as_deref() {
                    Some(set) => names_origin(set.as_bytes()),
                    None => input
                        .upstream
                        .iter()
                        .any(|(n, v)| n.eq_ignore_ascii_case(b"vary") && names_origin(v)),
                };
                assert!(vary, "Vary without Origin: {edits:?}");
            }
        }
    }
});
