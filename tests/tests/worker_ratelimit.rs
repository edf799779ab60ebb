//! Per-policy rate limits (`CORS_RATE_LIMITS`) under real workerd: over the
//! limit, an actual request is answered 429 with the policy's CORS headers,
//! so the page can read the status; preflights are never limited; requests
//! outside the mapped policies never ask a limiter.
//!
//! workerd has no rate limiter of its own, so each binding is a stand-in: a
//! wrapped binding with the real one's `limit({key})` that lets `allowed`
//! requests per key through and refuses the rest, and prints each call as a
//! JSON line, which the test reads from workerd's output.
//!
//! Needs workerd (`scripts/setup.sh`) and the built Worker
//! (`scripts/build-wasm.sh worker`); fails, never skips, without them.

use e2e::client::{Request, Response};
use e2e::upstream::{Upstream, ID_HEADER};
use e2e::workerd::{CorsConfig, Extras, Workerd};
use std::time::{Duration, Instant};

const STANDIN: &str = r#"
export default function ({ name, allowed }) {
  const seen = new Map();
  return {
    async limit({ key }) {
      const count = (seen.get(key) ?? 0) + 1;
      seen.set(key, count);
      console.log(JSON.stringify({ rate_limit: { name, key } }));
      return { success: count <= allowed };
    },
  };
}
"#;

const CONFIG: &str = r#"{"policies": [
  {"name": "public", "match": {"paths": ["/public/*"]}, "allow_origins": ["*"], "max_age": 600},
  {"name": "api", "match": {"paths": ["/api/*"]}, "allow_origins": ["https://app.example.com"],
   "allow_credentials": true, "expose_headers": ["X-RateLimit-Remaining"]},
  {"name": "open", "match": {"paths": ["/open/*"]}, "allow_origins": ["*"]}
]}"#;

const APP: &str = "https://app.example.com";

/// A stand-in limiter named `name` that lets `allowed` requests per key through.
fn limiter(name: &str, allowed: u32) -> String {
    format!(
        r#"(name = "{name}", wrapped = (moduleName = "e2e:ratelimit", innerBindings = [(name = "name", text = "{name}"), (name = "allowed", json = "{allowed}")]))"#
    )
}

fn extras(rate_limits: &str, limiters: &[(&str, u32)]) -> Extras {
    let mut bindings: Vec<String> = limiters
        .iter()
        .map(|(name, allowed)| limiter(name, *allowed))
        .collect();
    bindings.push(format!(
        "(name = \"CORS_RATE_LIMITS\", json = \"{}\")",
        rate_limits.replace('"', "\\\"")
    ));
    Extras {
        bindings,
        internal_modules: vec![("e2e:ratelimit".into(), STANDIN.into())],
    }
}

fn start(upstream: &Upstream, extras: &Extras) -> Workerd {
    let origin_url = format!("http://{}", upstream.addr());
    Workerd::start_with(CorsConfig::Text(CONFIG), Some(&origin_url), extras).unwrap_or_else(
        |failure| {
            panic!(
                "workerd did not start ({:?}):\n{}",
                failure.status, failure.log
            )
        },
    )
}

fn send(workerd: &Workerd, request: Request) -> Response {
    request
        .header("host", "api.example.com")
        .send(workerd.addr())
        .unwrap_or_else(|e| panic!("request to workerd failed: {e}"))
}

/// A GET from `origin` as Cloudflare hands it over, with the client's address.
fn get(path: &str, origin: &str, client: &str, id: &str) -> Request {
    Request::new("GET", path)
        .header("origin", origin)
        .header("cf-connecting-ip", client)
        .header(ID_HEADER, id)
}

fn header<'a>(response: &'a Response, name: &str) -> Option<&'a str> {
    response
        .header(name)
        .map(|v| std::str::from_utf8(v).expect("ASCII header"))
}

/// The limiter calls printed so far, as `(binding, key)`.
fn calls(workerd: &Workerd) -> Vec<(String, String)> {
    workerd
        .log_lines()
        .iter()
        .filter_map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).ok()?;
            let call = value.get("rate_limit")?;
            Some((
                call["name"].as_str()?.to_owned(),
                call["key"].as_str()?.to_owned(),
            ))
        })
        .collect()
}

fn wait_for_calls(workerd: &Workerd, count: usize) -> Vec<(String, String)> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let calls = calls(workerd);
        if calls.len() >= count || Instant::now() > deadline {
            return calls;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn over_the_limit_is_429_with_the_policys_cors_headers() {
    let upstream = Upstream::start();
    let workerd = start(
        &upstream,
        &extras(
            r#"{"public": "PUBLIC_LIMITER", "api": "API_LIMITER"}"#,
            &[("PUBLIC_LIMITER", 2), ("API_LIMITER", 1)],
        ),
    );
    let client = "203.0.113.7";

    // Public: two through, the third refused, readable by any page.
    for id in ["p1", "p2"] {
        let response = send(
            &workerd,
            get("/public/data", "https://any.example", client, id),
        );
        assert_eq!(response.status, 200, "{id}");
        assert!(upstream.saw(id), "{id} did not reach the upstream");
    }
    let refused = send(
        &workerd,
        get("/public/data", "https://any.example", client, "p3"),
    );
    assert_eq!(refused.status, 429);
    assert_eq!(header(&refused, "access-control-allow-origin"), Some("*"));
    assert!(
        !upstream.saw("p3"),
        "a refused request reached the upstream"
    );

    // Another client has its own count.
    let other = send(
        &workerd,
        get("/public/data", "https://any.example", "198.51.100.1", "p4"),
    );
    assert_eq!(other.status, 200);

    // Preflights are answered before any limiter, however many.
    for _ in 0..3 {
        let preflight = send(
            &workerd,
            Request::new("OPTIONS", "/public/data")
                .header("origin", "https://any.example")
                .header("access-control-request-method", "GET")
                .header("cf-connecting-ip", client),
        );
        assert_eq!(preflight.status, 204);
    }

    // A credentialed policy: the 429 carries what its pages need to read it.
    assert_eq!(
        send(&workerd, get("/api/me", APP, client, "a1")).status,
        200
    );
    let refused = send(&workerd, get("/api/me", APP, client, "a2"));
    assert_eq!(refused.status, 429);
    assert_eq!(header(&refused, "access-control-allow-origin"), Some(APP));
    assert_eq!(
        header(&refused, "access-control-allow-credentials"),
        Some("true")
    );
    assert_eq!(
        header(&refused, "access-control-expose-headers"),
        Some("X-RateLimit-Remaining")
    );
    assert_eq!(header(&refused, "vary"), Some("Origin"));
    assert!(!upstream.saw("a2"));

    // No limiter for an unmapped policy or outside every policy.
    for (path, id) in [
        ("/open/x", "o1"),
        ("/open/x", "o2"),
        ("/health", "h1"),
        ("/health", "h2"),
    ] {
        assert_eq!(
            send(&workerd, get(path, APP, client, id)).status,
            200,
            "{id}"
        );
    }

    let want: Vec<(String, String)> = [
        ("PUBLIC_LIMITER", client),
        ("PUBLIC_LIMITER", client),
        ("PUBLIC_LIMITER", client),
        ("PUBLIC_LIMITER", "198.51.100.1"),
        ("API_LIMITER", client),
        ("API_LIMITER", client),
    ]
    .iter()
    .map(|(name, key)| (name.to_string(), key.to_string()))
    .collect();
    assert_eq!(wait_for_calls(&workerd, want.len()), want);
    assert!(
        workerd.crash_lines().is_empty(),
        "{:?}",
        workerd.crash_lines()
    );
}

/// A mapping that names no policy, or no binding, is refused like a bad
/// `CORS_CONFIG`: every answer 500, and the log says which entry and why.
#[test]
fn a_bad_mapping_refuses_the_config() {
    let upstream = Upstream::start();
    for (mapping, needle) in [
        (
            r#"{"pubic": "PUBLIC_LIMITER"}"#,
            r#"policy "pubic": no such policy"#,
        ),
        (
            r#"{"public": "NO_SUCH_BINDING"}"#,
            r#""NO_SUCH_BINDING" is not a rate limiting binding"#,
        ),
        (r#"{"public": 7}"#, "7 is not a binding name"),
    ] {
        let workerd = start(&upstream, &extras(mapping, &[("PUBLIC_LIMITER", 2)]));
        let response = send(&workerd, get("/public/data", APP, "203.0.113.7", "refused"));
        assert_eq!(response.status, 500, "{mapping}");
        assert!(
            workerd.wait_for_error_line(needle, Duration::from_secs(5)),
            "{mapping}: no log line with {needle:?} in {:?}",
            workerd.error_lines()
        );
    }
    assert!(!upstream.saw("refused"));
}
