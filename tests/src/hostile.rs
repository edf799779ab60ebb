//! Malformed and hostile requests, the same for every proxy: bytes outside
//! ASCII in every header the engine reads, several `Origin` lines, huge
//! values, origins that are not serialized origins, odd methods, targets and
//! hosts. A filter must answer each without a crash, and then still answer a
//! valid request exactly right.
//!
//! They are aimed at [`CONFIG`]: host `api.example.com`, paths `/api/*` (a
//! listed policy) and `/open/*` (everything `*`).

use crate::client::Request;
use crate::vectors::show;

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
