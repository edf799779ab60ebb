//! Arbitrary bytes as `Origin`, on an actual request and on a preflight,
//! against exact, subdomain, single-label glob, any-port and `null` entries. An origin is
//! echoed exactly when a reference matcher, written here from
//! docs/behaviour.md, allows it, and then it is echoed byte for byte.

#![no_main]

use filter_core::{Action, Config, Outcome, Request};
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

static CONFIG: LazyLock<Config> = LazyLock::new(|| {
    Config::from_json(
        br#"{"policies": [{"name": "origins", "allow_origins": [
            "https://app.example.com", "HTTPS://Shop.Example.org:443",
            "https://*.example.com", "https://*.internal.example.net:8443",
            "http://localhost:*", "http://127.0.0.1:8080", "http://[::1]:3000", "null",
            "https://pr-*-x.preview.example.org"
        ]}]}"#,
    )
    .unwrap()
});

/// Whether a browser-serialized origin in this form is allowed by the
/// config above, following docs/behaviour.md: lowercase, no default port,
/// no leading zero in a port, hosts of at most 253 bytes.
fn reference_allows(origin: &[u8]) -> bool {
    const EXACT: [&[u8]; 5] = [
        b"https://app.example.com",
        b"https://shop.example.org",
        b"http://127.0.0.1:8080",
        b"http://[::1]:3000",
        b"null",
    ];
    if EXACT.contains(&origin) {
        return true;
    }
    let Ok(origin) = std::str::from_utf8(origin) else {
        return false;
    };
    if let Some(rest) = origin.strip_prefix("http://localhost") {
        return rest.is_empty() || rest.strip_prefix(':').is_some_and(|p| port(p, 80));
    }
    let Some(authority) = origin.strip_prefix("https://") else {
        return false;
    };
    let (host, port_ok) = match authority.split_once(':') {
        Some((host, p)) => (host, p == "8443"),
        None => (authority, false),
    };
    let subdomain_of = |suffix: &str| {
        host.strip_suffix(suffix)
            .and_then(|sub| sub.strip_suffix('.'))
            .is_some_and(labels)
            && host.len() <= 253
    };
    let glob = || {
        labels(host)
            && host
                .strip_suffix("-x.preview.example.org")
                .and_then(|label| label.strip_prefix("pr-"))
                .is_some_and(|middle| {
                    !middle.is_empty()
                        && middle
                            .bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                })
    };
    if authority.contains(':') {
        port_ok && subdomain_of("internal.example.net")
    } else {
        subdomain_of("example.com") || glob()
    }
}

/// Dot-separated, non-empty labels of lowercase letters, digits, `-`, `_`,
/// each at most 63 bytes (as DNS allows).
fn labels(s: &str) -> bool {
    s.split('.').all(|label| {
        (1..=63).contains(&label.len())
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    })
}

/// A port as browsers write it: 1 to 65535, no leading zero, not `default`.
fn port(p: &str, default: u16) -> bool {
    !p.starts_with('0')
        && (1..=5).contains(&p.len())
        && p.bytes().all(|b| b.is_ascii_digit())
        && p.parse::<u32>()
            .is_ok_and(|n| n <= 65535 && n != u32::from(default))
}

fuzz_target!(|origin: &[u8]| {
    let policy = &CONFIG.policies()[0];
    let allowed = reference_allows(origin);
    let shown = origin.escape_ascii();
    let actual = Request {
        method: b"GET",
        scheme: b"https",
        authority: b"api.example.com",
        origin: Some(origin),
        ..Request::default()
    };
    let decision = policy.decide(&actual);
    match decision.action {
        Action::Forward {
            allow_origin: Some(echoed),
        } => {
            assert!(allowed, "engine allows \"{shown}\", the reference does not");
            assert_eq!(echoed.as_bytes(), origin);
            let edits = policy.edit_response(Some(echoed), []);
            assert_eq!(edits.set.allow_origin.map(str::as_bytes), Some(origin));
        }
        Action::Forward { allow_origin: None } => {
            assert!(
                !allowed,
                "reference allows \"{shown}\", the engine does not"
            );
        }
        other => panic!("actual request not forwarded: {other:?}"),
    }
    let preflight = Request {
        method: b"OPTIONS",
        access_control_request_method: Some(b"GET"),
        ..actual
    };
    let decision = policy.decide(&preflight);
    let Action::Respond { status, headers } = decision.action else {
        panic!("preflight not answered at the edge");
    };
    assert_eq!(
        decision.outcome == Outcome::PreflightAllowed,
        allowed,
        "\"{shown}\""
    );
    assert_eq!(status, if allowed { 204 } else { 403 });
    assert_eq!(
        headers.allow_origin.map(str::as_bytes),
        allowed.then_some(origin)
    );
});
