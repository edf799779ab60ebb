//! Decision counters through a Workers Analytics Engine binding, under real
//! workerd.
//!
//! workerd has no Analytics Engine of its own, so `CORS_ANALYTICS` is a
//! stand-in: a wrapped binding whose `writeDataPoint` checks each point
//! against the limits of the real API (at most 20 blobs and 20 doubles, blobs
//! strings, doubles numbers) and prints it as one JSON line, which the test
//! reads from workerd's output. Known requests must give exactly the points
//! their decisions call for, in order; requests outside every policy, none.
//! Without the binding the Worker answers the same and writes nothing.
//!
//! Needs workerd (`scripts/setup.sh`) and the built Worker
//! (`scripts/build-wasm.sh worker`); fails, never skips, without them.

use e2e::client::Request;
use e2e::upstream::Upstream;
use e2e::workerd::{CorsConfig, Extras, Workerd};
use std::time::{Duration, Instant};

const STANDIN: &str = r#"
const LIMIT = 20;
export default function () {
  return {
    writeDataPoint(point) {
      const { blobs = [], doubles = [], indexes = [] } = point ?? {};
      if (!Array.isArray(blobs) || blobs.length > LIMIT || blobs.some((b) => typeof b !== "string"))
        throw new TypeError("bad blobs: " + JSON.stringify(blobs));
      if (!Array.isArray(doubles) || doubles.length > LIMIT || doubles.some((d) => typeof d !== "number"))
        throw new TypeError("bad doubles: " + JSON.stringify(doubles));
      if (!Array.isArray(indexes) || indexes.length > 1)
        throw new TypeError("bad indexes: " + JSON.stringify(indexes));
      console.log(JSON.stringify({ analytics_data_point: { blobs, doubles, indexes } }));
    },
  };
}
"#;

const CONFIG: &str = r#"{"policies": [
  {"name": "public", "match": {"paths": ["/public/*"]}, "allow_origins": ["*"]},
  {"name": "api", "match": {"paths": ["/api/*"]},
   "allow_origins": ["https://app.example.com"], "allow_methods": ["PUT"]}
]}"#;

/// How long a data point's line may take to arrive after its response.
const PATIENCE: Duration = Duration::from_secs(5);

fn extras() -> Extras {
    Extras {
        bindings: vec![
            r#"(name = "CORS_ANALYTICS", wrapped = (moduleName = "e2e:analytics"))"#.into(),
        ],
        internal_modules: vec![("e2e:analytics".into(), STANDIN.into())],
    }
}

fn start(config: &str, upstream: &Upstream, extras: &Extras) -> Workerd {
    let origin_url = format!("http://{}", upstream.addr());
    Workerd::start_with(CorsConfig::Text(config), Some(&origin_url), extras).unwrap_or_else(
        |failure| {
            panic!(
                "workerd did not start ({:?}):\n{}",
                failure.status, failure.log
            )
        },
    )
}

/// The data points printed so far, as `(blobs, doubles)`.
fn points(workerd: &Workerd) -> Vec<(Vec<String>, Vec<f64>)> {
    workerd
        .log_lines()
        .iter()
        .filter_map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).ok()?;
            let point = value.get("analytics_data_point")?;
            let blobs = point["blobs"]
                .as_array()?
                .iter()
                .map(|b| b.as_str().map(String::from))
                .collect::<Option<Vec<_>>>()?;
            let doubles = point["doubles"]
                .as_array()?
                .iter()
                .map(serde_json::Value::as_f64)
                .collect::<Option<Vec<_>>>()?;
            Some((blobs, doubles))
        })
        .collect()
}

fn wait_for_points(workerd: &Workerd, count: usize) -> Vec<(Vec<String>, Vec<f64>)> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let points = points(workerd);
        if points.len() >= count || Instant::now() > deadline {
            return points;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn send(workerd: &Workerd, request: Request) -> u16 {
    request
        .header("host", "api.example.com")
        .send(workerd.addr())
        .unwrap_or_else(|e| panic!("request to workerd failed: {e}"))
        .status
}

fn preflight(path: &str, origin: &str, method: &str) -> Request {
    Request::new("OPTIONS", path)
        .header("origin", origin)
        .header("access-control-request-method", method)
}

fn get(path: &str, origin: &str) -> Request {
    Request::new("GET", path).header("origin", origin)
}

fn expected(rows: &[(&str, &str, &str)]) -> Vec<(Vec<String>, Vec<f64>)> {
    rows.iter()
        .map(|(policy, outcome, mode)| {
            (
                vec![policy.to_string(), outcome.to_string(), mode.to_string()],
                vec![1.0],
            )
        })
        .collect()
}

#[test]
fn every_decision_is_one_data_point() {
    let upstream = Upstream::start();
    let workerd = start(CONFIG, &upstream, &extras());
    let app = "https://app.example.com";
    let evil = "https://evil.example.net";
    let statuses = [
        send(&workerd, preflight("/api/items", app, "PUT")),
        send(&workerd, preflight("/api/items", evil, "PUT")),
        send(&workerd, preflight("/api/items", app, "PATCH")),
        send(&workerd, get("/api/items", app)),
        send(&workerd, get("/api/items", evil)),
        send(&workerd, Request::new("GET", "/api/items")),
        send(&workerd, get("/public/logo.png", evil)),
        // Outside every policy: no decision, no point.
        send(&workerd, get("/health", app)),
    ];
    assert_eq!(statuses, [204, 403, 403, 200, 200, 200, 200, 200]);
    let want = expected(&[
        ("api", "preflight_allowed", "enforce"),
        ("api", "preflight_denied_origin", "enforce"),
        ("api", "preflight_denied_method", "enforce"),
        ("api", "actual_allowed", "enforce"),
        ("api", "actual_denied", "enforce"),
        ("api", "actual_no_origin", "enforce"),
        ("public", "actual_allowed", "enforce"),
    ]);
    let got = wait_for_points(&workerd, want.len());
    // A moment more, so that an extra point would show.
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(points(&workerd), got, "points kept arriving");
    assert_eq!(got, want);
    assert!(
        workerd
            .error_lines()
            .iter()
            .all(|l| !l.contains("writeDataPoint")),
        "{:?}",
        workerd.error_lines()
    );
}

#[test]
fn shadow_mode_is_the_mode_blob() {
    let upstream = Upstream::start();
    let config = CONFIG.replacen('{', r#"{"mode": "shadow", "#, 1);
    let workerd = start(&config, &upstream, &extras());
    // Shadow mode changes nothing on the wire: the denied preflight is
    // forwarded, and the upstream answers it.
    let statuses = [
        send(
            &workerd,
            preflight("/api/items", "https://evil.example.net", "PUT"),
        ),
        send(&workerd, get("/api/items", "https://app.example.com")),
    ];
    assert_eq!(statuses, [200, 200]);
    let want = expected(&[
        ("api", "preflight_denied_origin", "shadow"),
        ("api", "actual_allowed", "shadow"),
    ]);
    assert_eq!(wait_for_points(&workerd, want.len()), want);
}

#[test]
fn without_the_binding_nothing_is_written() {
    let upstream = Upstream::start();
    let workerd = start(CONFIG, &upstream, &Extras::default());
    assert_eq!(
        send(
            &workerd,
            preflight("/api/items", "https://app.example.com", "PUT")
        ),
        204
    );
    assert_eq!(
        send(&workerd, get("/api/items", "https://evil.example.net")),
        200
    );
    // The denial's log line comes after the (absent) point would have.
    assert_eq!(workerd.wait_for_denials(1, PATIENCE).len(), 1);
    assert!(points(&workerd).is_empty());
    assert!(
        workerd.crash_lines().is_empty(),
        "{:?}",
        workerd.crash_lines()
    );
}
