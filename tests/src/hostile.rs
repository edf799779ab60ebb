//! Malformed and hostile requests, the same for every proxy: bytes outside
//! ASCII in every header the engine reads, several `Origin` lines, huge
//! values, origins that are not serialized origins, odd methods, targets and
//! hosts. A filter must answer each without a crash, and then still answer a
//! valid request exactly right.
//!
//! They are aimed at [`CONFIG`]: host `api.example.com`, paths `/api/*` (a
//! listed policy) and `/open/*` (everything `*`).
//!
//! The checks every runtime must pass in the same way live here too, written
//! against [`Proxy`]; what only one runtime can show (Envoy's debug log and
//! shadow counters, the Worker's denial log lines) stays in its test file.

use crate::client::Request;
use crate::proxy::{Proxy, Runtime};
use crate::upstream::{self, Upstream};
use crate::vectors::{cors_headers, lines, show};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// A listed policy with every option on, and a policy of stars.
pub const CONFIG: &str = r#"{"policies": [
    {"name": "api", "match": {"hosts": ["api.example.com"], "paths": ["/api/*"]},
     "allow_origins": ["https://app.example.com", "https://*.example.org", "http://localhost:*"],
     "allow_methods": ["GET", "PUT", "DELETE"], "allow_headers": ["Content-Type", "X-CSRF-Token"],
     "expose_headers": ["X-Request-Id"], "allow_credentials": true, "max_age": 600,
     "allow_private_network": true, "disallowed": "reject"},
    {"name": "open", "match": {"paths": ["/open/*"]},
     "allow_origins": ["*"], "allow_methods": ["*"], "allow_headers": ["*"]}
]}"#;

/// Header values that are not text, or not ASCII, or carry controls.
pub const BAD_VALUES: [&[u8]; 7] = [
    b"\xff\xfe",
    b"https://app.example.com\xff",
    b"\xc3\x28",
    b"https://\xc3\xa9.example.org",
    b"\x80",
    b"https://app.example.com\x01",
    b"\x7f\x7f",
];

/// A request to `api.example.com`.
pub fn api(method: &[u8], target: &[u8]) -> Request {
    Request::new(method, target).header("Host", "api.example.com")
}

/// The valid preflight that must be answered right before and after.
pub fn preflight() -> Request {
    api(b"OPTIONS", b"/api/items")
        .header("Origin", "https://app.example.com")
        .header("Access-Control-Request-Method", "PUT")
        .header("Access-Control-Request-Headers", "content-type")
}

/// The `Vary` of every preflight answer from the listed policy, allowed or not.
pub const PREFLIGHT_VARY: &str = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network";

/// Asserts that the valid [`preflight`] sent to `proxy` gets exactly its
/// answer; `when` says which check this is (before, after...).
pub fn assert_preflight_answered(proxy: &dyn Proxy, when: &str) {
    let response = proxy
        .send(&preflight())
        .unwrap_or_else(|e| panic!("{when}: no answer to a valid preflight: {e}"));
    assert_eq!(response.status, 204, "{when}: {response:?}");
    let expected = cors_headers(&lines(&[
        ("access-control-allow-origin", "https://app.example.com"),
        ("access-control-allow-credentials", "true"),
        ("access-control-allow-methods", "GET, PUT, DELETE"),
        ("access-control-allow-headers", "content-type"),
        ("access-control-max-age", "600"),
        ("vary", PREFLIGHT_VARY),
    ]));
    assert_eq!(cors_headers(&response.headers), expected, "{when}");
}

/// Sends every hostile request the runtime takes ([`Proxy::takes`]) through
/// one proxy: each must get an answer that does not show the proxy failing,
/// the proxy must show no damage ([`Proxy::damage`]), and the valid
/// preflight must get exactly its answer before and after. Over HTTP/2, a
/// request the protocol cannot express is not sent, and counted.
///
/// # Panics
/// On any failure, listing them all.
pub fn assert_hostile_requests_answered(runtime: Runtime) {
    let upstream = Upstream::start();
    let mut proxy = runtime.serve(CONFIG, &upstream);
    assert_preflight_answered(&*proxy, "before");
    let (mut sent, mut inexpressible, mut failures) = (0, 0, Vec::new());
    for (label, request) in requests().into_iter().filter(|(_, r)| proxy.takes(r)) {
        if runtime == Runtime::EnvoyHttp2 && crate::h2c::to_http2(&request).is_err() {
            inexpressible += 1;
            continue;
        }
        sent += 1;
        match proxy.send(&request) {
            Ok(response) => failures.extend(
                proxy
                    .crashed(&response)
                    .map(|why| format!("{label}: {why}")),
            ),
            Err(e) => failures.push(format!("{label}: no answer: {e}")),
        }
    }
    eprintln!(
        "{}: {sent} hostile requests sent, {inexpressible} not expressible over the protocol",
        runtime.name()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_preflight_answered(&*proxy, "after the hostile requests");
    let damage = proxy.damage();
    assert!(damage.is_empty(), "{}", damage.join("\n"));
}

/// Asserts that origins which are not serialized origins, or not text, are
/// refused on a preflight without being echoed, and that a 64 KiB list of
/// names on the star policy is echoed whole.
pub fn assert_hostile_values_not_echoed(runtime: Runtime) {
    let upstream = Upstream::start();
    let proxy = runtime.serve(CONFIG, &upstream);
    for origin in [
        &b"https://app.example.com/"[..],
        b"https://app.example.com/path",
        b"https://app.example.com\xff",
        b"https://app.example.\xc3\xa9",
        b"https://app.example.com,https://app.example.com",
        b"HTTPS://APP.EXAMPLE.COM",
    ] {
        let request = api(b"OPTIONS", b"/api/items")
            .header("Origin", origin.to_vec())
            .header("Access-Control-Request-Method", "PUT");
        let response = proxy.send(&request).unwrap();
        assert_eq!(response.status, 403, "Origin {}", show(origin));
        assert_eq!(response.header("access-control-allow-origin"), None);
        assert_eq!(
            cors_headers(&response.headers),
            lines(&[("vary", PREFLIGHT_VARY)]),
            "Origin {}",
            show(origin)
        );
    }
    // 64 KiB of names: the star policy allows each and echoes them all.
    let huge = b"x-a,".repeat(64 * 1024 / 4);
    let request = api(b"OPTIONS", b"/open/x")
        .header("Origin", "https://app.example.com")
        .header("Access-Control-Request-Method", "PUT")
        .header("Access-Control-Request-Headers", huge.clone());
    let response = proxy.send(&request).unwrap();
    assert_eq!(response.status, 204);
    let echoed = response.header("access-control-allow-headers");
    assert_eq!(
        echoed.map(<[u8]>::len),
        Some(64 * 1024 - 1),
        "the names, without the last comma"
    );
    assert_eq!(echoed, Some(&huge[..huge.len() - 1]));
}

/// Asserts that two identical `Origin` lines are rejected, unforwarded and
/// unanswered by any CORS header: joined, they are no origin at all.
pub fn assert_two_identical_origins_rejected(runtime: Runtime) {
    let upstream = Upstream::start();
    let proxy = runtime.serve(CONFIG, &upstream);
    let request = api(b"GET", b"/api/items")
        .header("Origin", "https://app.example.com")
        .header("Origin", "https://app.example.com")
        .header(upstream::ID_HEADER, "two-origins");
    let response = proxy.send(&request).unwrap();
    assert_eq!(
        response.status, 403,
        "rejected: the joined value is no origin"
    );
    assert!(!upstream.saw("two-origins"));
    assert_eq!(response.header("access-control-allow-origin"), None);
    assert_recorded(&*proxy, &[("actual_rejected", 1)]);
}

/// Asserts that `Sec-Fetch-Site: same-origin` exempts a request from
/// `disallowed: reject` only on a line of its own: several lines, even all
/// `same-origin`, join into a value that is not.
pub fn assert_sec_fetch_site_on_several_lines_is_not_same_origin(runtime: Runtime) {
    let upstream = Upstream::start();
    let proxy = runtime.serve(CONFIG, &upstream);
    let status = |lines: &[&str]| {
        let mut request = api(b"POST", b"/api/items")
            .header("Origin", "https://evil.example.net")
            .header("Content-Length", "0");
        for line in lines {
            request = request.header("Sec-Fetch-Site", *line);
        }
        proxy.send(&request).unwrap().status
    };
    assert_eq!(status(&["same-origin"]), 200, "one line: exempt");
    assert_eq!(status(&["same-origin", "cross-site"]), 403);
    assert_eq!(status(&["same-origin", "same-origin"]), 403);
    assert_eq!(status(&["cross-site", "same-origin"]), 403);
    assert_recorded(
        &*proxy,
        &[("actual_same_origin", 1), ("actual_rejected", 3)],
    );
}

/// Asserts that `proxy` has recorded exactly `expected` of the outcomes it
/// records at all, waiting a moment for them to show.
fn assert_recorded(proxy: &dyn Proxy, expected: &[(&str, u64)]) {
    let want: BTreeMap<String, u64> = expected
        .iter()
        .filter(|(outcome, _)| proxy.records(outcome))
        .map(|(outcome, n)| (outcome.to_string(), *n))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let got: BTreeMap<String, u64> = proxy
            .recorded()
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .collect();
        if got == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "recorded: expected {want:?}, got {got:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Every hostile request, named.
pub fn requests() -> Vec<(String, Request)> {
    let mut requests: Vec<(String, Request)> = Vec::new();
    let read_headers = [
        "Origin",
        "Access-Control-Request-Method",
        "Access-Control-Request-Headers",
        "Access-Control-Request-Private-Network",
        "Sec-Fetch-Site",
    ];
    for name in read_headers {
        for value in BAD_VALUES {
            for method in [&b"OPTIONS"[..], b"GET"] {
                let mut request = api(method, b"/api/items")
                    .header("Origin", "https://app.example.com")
                    .header("Access-Control-Request-Method", "PUT");
                request
                    .headers
                    .retain(|(n, _)| !n.eq_ignore_ascii_case(name.as_bytes()));
                let request = request.header(name, value.to_vec());
                let label = format!("{} with {name}: {}", show(method), show(value));
                requests.push((label, request));
            }
        }
    }
    for value in BAD_VALUES {
        requests.push((
            format!("Host: {}", show(value)),
            Request::new("GET", "/api/items")
                .header("Host", value.to_vec())
                .header("Origin", "https://app.example.com"),
        ));
    }
    let mut many_origins = api(b"GET", b"/api/items");
    for _ in 0..50 {
        many_origins = many_origins.header("Origin", "https://app.example.com");
    }
    requests.push(("50 Origin lines".into(), many_origins));
    requests.push((
        "an empty Origin line, then a valid one".into(),
        api(b"OPTIONS", b"/api/items")
            .header("Origin", "")
            .header("Origin", "https://app.example.com")
            .header("Access-Control-Request-Method", "PUT"),
    ));
    let huge_list = b"x-a,".repeat(64 * 1024 / 4);
    let huge_name = vec![b'a'; 64 * 1024];
    for (label, path, value) in [
        ("64 KiB list, listed policy", &b"/api/items"[..], &huge_list),
        ("64 KiB list, star policy", b"/open/x", &huge_list),
        ("64 KiB name, listed policy", b"/api/items", &huge_name),
        ("64 KiB name, star policy", b"/open/x", &huge_name),
    ] {
        requests.push((
            format!("Access-Control-Request-Headers: {label}"),
            api(b"OPTIONS", path)
                .header("Origin", "https://app.example.com")
                .header("Access-Control-Request-Method", "PUT")
                .header("Access-Control-Request-Headers", value.clone()),
        ));
    }
    requests.push((
        "64 KiB Origin".into(),
        api(b"GET", b"/api/items").header("Origin", vec![b'o'; 64 * 1024]),
    ));
    for origin in [
        "https://app.example.com/",
        "https://app.example.com/path?q=1",
        "https://user@app.example.com",
        "HTTPS://APP.EXAMPLE.COM",
        "https://app.example.com:443",
        "null",
        "",
        ",",
        "*",
    ] {
        for method in [&b"OPTIONS"[..], b"GET"] {
            requests.push((
                format!("{} with Origin {origin:?}", show(method)),
                api(method, b"/api/items")
                    .header("Origin", origin)
                    .header("Access-Control-Request-Method", "PUT"),
            ));
        }
    }
    requests.push((
        "no Host".into(),
        Request::new("GET", "/api/items").header("Origin", "https://app.example.com"),
    ));
    requests.push((
        "HTTP/1.1 without Host, preflight".into(),
        Request::new("OPTIONS", "/api/items")
            .header("Origin", "https://app.example.com")
            .header("Access-Control-Request-Method", "PUT"),
    ));
    for host in [
        "API.EXAMPLE.COM:80",
        "api.example.com:",
        "user@api.example.com",
        "[::1]:8080",
    ] {
        requests.push((
            format!("Host: {host}"),
            Request::new("OPTIONS", "/api/items")
                .header("Host", host)
                .header("Origin", "https://app.example.com")
                .header("Access-Control-Request-Method", "PUT"),
        ));
    }
    for method in [
        &b"options"[..],
        b"PATCH",
        b"PROPFIND",
        b"M-SEARCH",
        b"TRACE",
        b"CONNECT",
        b"X",
        b"A-VERY-LONG-METHOD-NAME-THAT-NO-SERVER-KNOWS-ABOUT-AT-ALL-0123456789",
    ] {
        requests.push((
            format!("method {}", show(method)),
            api(method, b"/api/items")
                .header("Origin", "https://app.example.com")
                .header("Access-Control-Request-Method", "PUT"),
        ));
    }
    for target in [
        &b"*"[..],
        b"http://api.example.com/api/items",
        b"/api/items?#frag",
        b"/api/%ff%00",
        b"/api/\xff",
        b"/api/../open/x",
    ] {
        requests.push((
            format!("target {}", show(target)),
            api(b"OPTIONS", target)
                .header("Origin", "https://app.example.com")
                .header("Access-Control-Request-Method", "PUT"),
        ));
    }
    requests
}
