//! Malformed and hostile traffic through real workerd running the Worker (the
//! shared checks of [`e2e::hostile`]), the two ways to bind `CORS_CONFIG`, and what the forwarding glue must keep:
//! streamed bodies, upstream statuses, redirects, cookies, a dead upstream.
//!
//! A Rust panic traps the Wasm instance; the worker-build shim then logs
//! `Critical` and re-instantiates the module on the next request, so a crash
//! would not show in later answers. Hence every hostile request must get an
//! answer that is not a 500, the logs must show no trap, and a valid preflight
//! afterwards must still get exactly the right answer.
//!
//! Needs workerd (`scripts/setup.sh`) and the built Worker
//! (`scripts/build-wasm.sh worker`); fails, never skips, without them.

use e2e::client::{self, Request};
use e2e::hostile::{self, api, preflight, CONFIG};
use e2e::proxy::Runtime;
use e2e::upstream::{self, Upstream};
use e2e::vectors::{cors_headers, lines};
use e2e::workerd::{CorsConfig, LoggedDenial, Workerd};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// How long anything may take before the test calls it hung.
const PATIENCE: Duration = Duration::from_secs(10);

fn start(config: CorsConfig, origin_url: &str) -> Workerd {
    Workerd::start(config, Some(origin_url)).unwrap_or_else(|failure| {
        panic!(
            "workerd did not start ({:?}):\n{}",
            failure.status, failure.log
        )
    })
}

fn url(addr: SocketAddr) -> String {
    format!("http://{addr}")
}

#[test]
fn hostile_requests_get_answers_and_the_worker_survives() {
    hostile::assert_hostile_requests_answered(Runtime::Workerd);
}

#[test]
fn hostile_values_are_never_echoed() {
    hostile::assert_hostile_values_not_echoed(Runtime::Workerd);
}

#[test]
fn several_origin_lines_match_nothing_even_when_identical() {
    hostile::assert_two_identical_origins_rejected(Runtime::Workerd);
}

#[test]
fn sec_fetch_site_on_several_lines_is_not_same_origin() {
    hostile::assert_sec_fetch_site_on_several_lines_is_not_same_origin(Runtime::Workerd);
}

#[test]
fn several_origin_lines_are_logged_joined_by_comma_space() {
    let upstream = Upstream::start();
    let workerd = start(CorsConfig::Text(CONFIG), &url(upstream.addr()));
    let response = api(b"GET", b"/api/items")
        .header("Origin", "https://app.example.com")
        .header("Origin", "https://app.example.com")
        .send(workerd.addr())
        .unwrap();
    assert_eq!(response.status, 403);
    let denials = workerd.wait_for_denials(1, PATIENCE);
    assert_eq!(
        denials,
        [LoggedDenial {
            policy: "api".into(),
            outcome: "actual_rejected".into(),
            reason: r#"origin "https://app.example.com, https://app.example.com" is not in allow_origins"#
                .into(),
        }]
    );
}

#[test]
fn a_denial_is_one_json_line_with_policy_outcome_and_escaped_reason() {
    let upstream = Upstream::start();
    let workerd = start(CorsConfig::Text(CONFIG), &url(upstream.addr()));
    let response = api(b"OPTIONS", b"/api/items")
        .header("Origin", b"https://evil.example.net\xff\"".to_vec())
        .header("Access-Control-Request-Method", "PUT")
        .send(workerd.addr())
        .unwrap();
    assert_eq!(response.status, 403);
    let response = api(b"OPTIONS", b"/api/items")
        .header("Origin", "https://app.example.com")
        .header("Access-Control-Request-Method", "PATCH")
        .send(workerd.addr())
        .unwrap();
    assert_eq!(response.status, 403);
    // workerd hands header values to JS decoded as UTF-8, so the invalid
    // byte 0xFF arrives as U+FFFD (bytes EF BF BD); Envoy logs `\xff`.
    let expected = [
        LoggedDenial {
            policy: "api".into(),
            outcome: "preflight_denied_origin".into(),
            reason: r#"origin "https://evil.example.net\xef\xbf\xbd\x22" is not in allow_origins"#
                .into(),
        },
        LoggedDenial {
            policy: "api".into(),
            outcome: "preflight_denied_method".into(),
            reason: r#"method "PATCH" is not in allow_methods"#.into(),
        },
    ];
    assert_eq!(workerd.wait_for_denials(2, PATIENCE), expected);
    assert_eq!(
        workerd.log_lines().len(),
        2,
        "nothing else is logged: {:?}",
        workerd.log_lines()
    );
}

#[test]
fn a_json_object_binding_works_like_a_text_one() {
    let upstream = Upstream::start();
    let text = start(CorsConfig::Text(CONFIG), &url(upstream.addr()));
    let json = start(CorsConfig::Json(CONFIG), &url(upstream.addr()));
    let response = preflight().send(json.addr()).unwrap();
    assert_eq!(response.status, 204, "JSON binding: {response:?}");
    let requests = [
        preflight(),
        api(b"OPTIONS", b"/api/items")
            .header("Origin", "https://evil.example.net")
            .header("Access-Control-Request-Method", "PUT"),
        api(b"GET", b"/api/items").header("Origin", "https://a.b.example.org"),
        api(b"GET", b"/api/items").header("Origin", "https://evil.example.net"),
        api(b"GET", b"/api/items"),
        api(b"OPTIONS", b"/open/x")
            .header("Origin", "https://anyone.example")
            .header("Access-Control-Request-Method", "PROPFIND"),
        api(b"GET", b"/elsewhere").header("Origin", "https://app.example.com"),
    ];
    for request in requests {
        let answer = |workerd: &Workerd| {
            let response = request.clone().send(workerd.addr()).unwrap();
            (response.status, cors_headers(&response.headers))
        };
        assert_eq!(answer(&json), answer(&text), "{request:?}");
    }
}

#[test]
fn a_missing_or_refused_binding_answers_500_and_says_why_on_every_request() {
    let upstream = Upstream::start();
    let cases = [
        (CorsConfig::Absent, &["CORS_CONFIG is not set"][..]),
        (CorsConfig::Json("[1, 2]"), &["JSON object"]),
        (
            CorsConfig::Json(
                r#"{"policies": [{"name": "api", "allow_origins": ["https://*.com"]}]}"#,
            ),
            &[r#"policy "api""#, "allow_origins[0]", r#""https://*.com""#],
        ),
        (
            CorsConfig::Text(
                r#"{"policies": [{"name": "api", "allow_origins": ["*"], "allow_credentials": true}]}"#,
            ),
            &[r#"policy "api""#, "allow_origins[0]", r#""*""#],
        ),
    ];
    for (config, needles) in cases {
        let workerd = start(config, &url(upstream.addr()));
        for attempt in 1..=2 {
            let response = preflight().send(workerd.addr()).unwrap();
            assert_eq!(response.status, 500, "{config:?} request {attempt}");
            assert_eq!(
                response.body,
                b"CORS configuration refused; see the Worker's logs\n"
            );
            assert!(cors_headers(&response.headers).is_empty());
            for needle in needles {
                let logged = || {
                    workerd
                        .error_lines()
                        .iter()
                        .filter(|line| {
                            line.starts_with("CORS_CONFIG refused") && line.contains(needle)
                        })
                        .count()
                };
                let deadline = Instant::now() + PATIENCE;
                while logged() < attempt && Instant::now() < deadline {
                    thread::sleep(Duration::from_millis(20));
                }
                assert_eq!(
                    logged(),
                    attempt,
                    "{config:?}: request {attempt} logs {needle:?} once:\n{}",
                    workerd.error_lines().join("\n")
                );
            }
        }
    }
    assert!(upstream.requests().is_empty(), "nothing is forwarded");
}

/// An upstream the recording one cannot be: it answers each connection by
/// `respond(request path)` (the bytes as written, on purpose: statuses and
/// framings the recording upstream never sends), then closes it.
fn scripted_upstream(respond: fn(&str) -> Vec<u8>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let head = read_until(&mut stream, b"\r\n\r\n");
            let mut fields = [httparse::EMPTY_HEADER; client::MAX_HEADERS];
            let mut request = httparse::Request::new(&mut fields);
            let path = match request.parse(&head) {
                Ok(_) => request.path.unwrap_or_default(),
                Err(_) => "",
            };
            let _ = stream.write_all(&respond(path));
        }
    });
    addr
}

/// Reads from `stream` until `needle` has arrived (or EOF, or the timeout).
fn read_until(stream: &mut TcpStream, needle: &[u8]) -> Vec<u8> {
    let _ = stream.set_read_timeout(Some(PATIENCE));
    let mut seen = Vec::new();
    let mut buffer = [0; 4096];
    while !seen.windows(needle.len()).any(|w| w == needle) {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => seen.extend_from_slice(&buffer[..n]),
        }
    }
    seen
}

#[test]
fn upstream_statuses_redirects_and_cookies_come_back_with_the_policy_headers() {
    fn respond(path: &str) -> Vec<u8> {
        let response = match path {
            "/api/not-modified" => "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\n\r\n",
            "/api/no-content" => "HTTP/1.1 204 No Content\r\n\r\n",
            "/api/redirect" => {
                "HTTP/1.1 302 Found\r\nLocation: /api/elsewhere\r\nContent-Length: 0\r\n\r\n"
            }
            "/api/cookies" => {
                "HTTP/1.1 201 Created\r\nSet-Cookie: a=1; Path=/\r\nSet-Cookie: b=2; HttpOnly\r\n\
                 Access-Control-Allow-Origin: *\r\nContent-Length: 3\r\n\r\nnew"
            }
            _ => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
        };
        response.as_bytes().to_vec()
    }
    let upstream = scripted_upstream(respond);
    let workerd = start(CorsConfig::Text(CONFIG), &url(upstream));
    let send = |method: &[u8], path: &[u8]| {
        api(method, path)
            .header("Origin", "https://app.example.com")
            .send(workerd.addr())
            .unwrap()
    };
    let allowed = cors_headers(&lines(&[
        ("access-control-allow-origin", "https://app.example.com"),
        ("access-control-allow-credentials", "true"),
        ("access-control-expose-headers", "X-Request-Id"),
        ("vary", "Origin"),
    ]));

    let response = send(b"GET", b"/api/not-modified");
    assert_eq!(response.status, 304);
    assert_eq!(response.header("etag"), Some(&b"\"v1\""[..]));
    assert_eq!(cors_headers(&response.headers), allowed);

    let response = send(b"DELETE", b"/api/no-content");
    assert_eq!(response.status, 204);
    assert_eq!(cors_headers(&response.headers), allowed);

    let response = send(b"GET", b"/api/redirect");
    assert_eq!(response.status, 302, "a redirect goes back to the client");
    assert_eq!(response.header("location"), Some(&b"/api/elsewhere"[..]));
    assert_eq!(cors_headers(&response.headers), allowed);

    let response = send(b"PUT", b"/api/cookies");
    assert_eq!(response.status, 201);
    assert_eq!(response.body, b"new");
    let cookies: Vec<&[u8]> = response.values("set-cookie").collect();
    assert_eq!(cookies, [&b"a=1; Path=/"[..], b"b=2; HttpOnly"]);
    assert_eq!(
        cors_headers(&response.headers),
        allowed,
        "the upstream's * replaced"
    );

    let response = send(b"HEAD", b"/api/cookies");
    assert_eq!(response.status, 201);
    assert!(response.body.is_empty());
    assert_eq!(cors_headers(&response.headers), allowed);
    assert!(
        workerd.crash_lines().is_empty(),
        "{:?}",
        workerd.crash_lines()
    );
}

#[test]
fn a_response_body_is_streamed_not_buffered() {
    let (release, released) = mpsc::channel::<()>();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let upstream = listener.local_addr().unwrap();
    thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        read_until(&mut stream, b"\r\n\r\n");
        // Written by hand: the chunks must leave at chosen moments.
        let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(b"6\r\nfirst\n\r\n").unwrap();
        // The rest only once the client has the first part: a Worker that
        // buffered the body would never send it.
        let _ = released.recv_timeout(PATIENCE);
        stream.write_all(b"7\r\nsecond\n\r\n0\r\n\r\n").unwrap();
    });
    let workerd = start(CorsConfig::Text(CONFIG), &url(upstream));
    let mut client = TcpStream::connect(workerd.addr()).unwrap();
    let request = api(b"GET", b"/api/stream").header("Origin", "https://app.example.com");
    client.write_all(&request.to_bytes()).unwrap();
    let first = read_until(&mut client, b"first\n");
    let text = String::from_utf8_lossy(&first).into_owned();
    assert!(
        text.contains("first\n"),
        "the first chunk did not arrive while the upstream held the rest: {text:?}"
    );
    let head = client::parse_head(&first).unwrap_or_else(|e| panic!("{e}: {text}"));
    let (_, head) = head.unwrap_or_else(|| panic!("no whole head: {text}"));
    assert_eq!(
        head.header("access-control-allow-origin"),
        Some(&b"https://app.example.com"[..])
    );
    release.send(()).unwrap();
    let rest = read_until(&mut client, b"\r\n0\r\n\r\n");
    assert!(
        String::from_utf8_lossy(&rest).contains("second\n"),
        "{rest:?}"
    );
}

#[test]
fn a_request_body_is_streamed_not_buffered() {
    let (got_first, first_arrived) = mpsc::channel::<Vec<u8>>();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let upstream = listener.local_addr().unwrap();
    thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut seen = read_until(&mut stream, b"ping");
        got_first.send(seen.clone()).unwrap();
        seen.extend(read_until(&mut stream, b"pong"));
        let body = if seen.windows(4).any(|w| w == b"pong") {
            "got both"
        } else {
            "lost pong"
        };
        let response = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(response.as_bytes()).unwrap();
    });
    let workerd = start(CorsConfig::Text(CONFIG), &url(upstream));
    // Written by hand: the chunks must leave at chosen moments.
    let mut client = TcpStream::connect(workerd.addr()).unwrap();
    client
        .write_all(
            b"PUT /api/upload?x=1 HTTP/1.1\r\nHost: api.example.com\r\n\
              Origin: https://app.example.com\r\nTransfer-Encoding: chunked\r\n\
              Connection: close\r\n\r\n4\r\nping\r\n",
        )
        .unwrap();
    let first = first_arrived
        .recv_timeout(PATIENCE)
        .expect("the upstream got no first chunk while the client held the rest");
    let mut fields = [httparse::EMPTY_HEADER; client::MAX_HEADERS];
    let mut head = httparse::Request::new(&mut fields);
    let parsed = head.parse(&first);
    assert!(
        matches!(parsed, Ok(httparse::Status::Complete(_))),
        "{parsed:?}: {}",
        String::from_utf8_lossy(&first)
    );
    assert_eq!(
        (head.method, head.path),
        (Some("PUT"), Some("/api/upload?x=1"))
    );
    let origin = head
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("origin"));
    assert_eq!(
        origin.map(|h| h.value),
        Some(&b"https://app.example.com"[..]),
        "request headers are forwarded"
    );
    client.write_all(b"4\r\npong\r\n0\r\n\r\n").unwrap();
    let mut raw = Vec::new();
    client.set_read_timeout(Some(PATIENCE)).unwrap();
    client.read_to_end(&mut raw).unwrap();
    let response = client::parse_response(&raw).unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.body, b"got both");
    assert_eq!(
        response.header("access-control-allow-origin"),
        Some(&b"https://app.example.com"[..])
    );
}

#[test]
fn an_unreachable_upstream_is_a_502_that_still_carries_the_policy_headers() {
    let closed = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap();
    let workerd = start(CorsConfig::Text(CONFIG), &url(closed));
    let response = api(b"GET", b"/api/items")
        .header("Origin", "https://app.example.com")
        .send(workerd.addr())
        .unwrap();
    assert_eq!(response.status, 502);
    assert_eq!(
        cors_headers(&response.headers),
        cors_headers(&lines(&[
            ("access-control-allow-origin", "https://app.example.com"),
            ("access-control-allow-credentials", "true"),
            ("access-control-expose-headers", "X-Request-Id"),
            ("vary", "Origin"),
        ]))
    );
    let response = api(b"GET", b"/elsewhere").send(workerd.addr()).unwrap();
    assert_eq!(response.status, 502, "out of scope too");
    assert!(cors_headers(&response.headers).is_empty());
    let needle = format!("forwarding to http://{closed}/api/items failed");
    assert!(
        workerd.wait_for_error_line(&needle, PATIENCE),
        "{}",
        workerd.error_lines().join("\n")
    );
}

#[test]
fn requests_go_to_origin_url_with_path_and_query_or_else_to_their_own_url() {
    let upstream = Upstream::start();
    let with_slash = start(
        CorsConfig::Text(CONFIG),
        &format!("{}/", url(upstream.addr())),
    );
    let response = api(b"GET", b"/open/x?q=1&r=%20")
        .header(upstream::ID_HEADER, "origin-url")
        .send(with_slash.addr())
        .unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(
        response.header("access-control-allow-origin"),
        Some(&b"*"[..])
    );

    // Without ORIGIN_URL the request's own URL is fetched: here its Host is
    // the upstream itself.
    let own_url = Workerd::start(CorsConfig::Text(CONFIG), None)
        .unwrap_or_else(|failure| panic!("workerd did not start: {}", failure.log));
    let response = Request::new("GET", "/open/y?z")
        .header("Host", upstream.addr().to_string())
        .header(upstream::ID_HEADER, "own-url")
        .send(own_url.addr())
        .unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(
        response.header("access-control-allow-origin"),
        Some(&b"*"[..])
    );

    let paths: Vec<(Vec<u8>, Vec<u8>)> = upstream
        .requests()
        .into_iter()
        .map(|r| {
            (
                r.header(upstream::ID_HEADER).unwrap_or_default().to_vec(),
                r.path,
            )
        })
        .collect();
    assert_eq!(
        paths,
        [
            (b"origin-url".to_vec(), b"/open/x?q=1&r=%20".to_vec()),
            (b"own-url".to_vec(), b"/open/y?z".to_vec()),
        ]
    );
}
