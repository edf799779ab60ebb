//! What one CORS decision costs, in time and heap allocations, with 1, 100
//! and 10,000 exact origins (plus 100 subdomain patterns), next to
//! tower-http's `CorsLayer` configured the same way and given the same
//! requests; plus hostile preflights and compiling a 10,000-origin config.
//!
//! `cargo bench -p filter-core --bench decision` prints criterion's figures,
//! then one table: ns per decision (criterion's median), allocations per
//! decision (counted by the global allocator below), and ours / tower-http.
//! Under `cargo test --benches` each benchmark runs once and the table
//! shows allocations only.
//!
//! An actual request here is the decision plus the response edits, all a
//! proxy asks of the engine for it. tower-http answers a preflight whatever
//! its method and headers (the browser then checks them); the engine checks
//! both, so its denied preflight may stop earlier or later than tower-http's.

use criterion::{BenchmarkId, Criterion};
use filter_core::{Action, Config, Policy, Request};
use http::header::{HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use http::Method;
use std::alloc::{GlobalAlloc, Layout, System};
use std::convert::Infallible;
use std::future::{ready, Future, Ready};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use tower::util::ServiceFn;
use tower::{Layer, Service};
use tower_http::cors::{AllowOrigin, Cors, CorsLayer};

/// Counts every allocation and reallocation, to report them per decision.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations per call of `f`, averaged over many calls.
fn allocations_per_call(mut f: impl FnMut()) -> f64 {
    const CALLS: u64 = 1000;
    f();
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for _ in 0..CALLS {
        f();
    }
    (ALLOCATIONS.load(Ordering::Relaxed) - before) as f64 / CALLS as f64
}

const SIZES: [usize; 3] = [1, 100, 10_000];
const PATTERNS: usize = 100;
const ALLOWED: &str = "https://app.example.com";
const DENIED: &str = "https://evil.example.org";
/// Matched by the 50th subdomain pattern, not by any exact origin.
const ALLOWED_BY_PATTERN: &str = "https://eu.app.tenant50.example.net";
/// Matched by the glob among the patterns, `https://pr-*.tenant55.example.net`.
const ALLOWED_BY_GLOB: &str = "https://pr-7.tenant55.example.net";

/// One origin in ten is a single-label glob (`https://pr-*.…`), among the
/// exact origins and among the patterns alike.
fn is_glob_slot(i: usize) -> bool {
    i % 10 == 5
}

/// `exact` origins, the first being [`ALLOWED`], and the patterns.
fn origins(exact: usize) -> (Vec<String>, Vec<String>) {
    let exact = (0..exact)
        .map(|i| match i {
            0 => ALLOWED.to_string(),
            i if is_glob_slot(i) => format!("https://pr-*.site{i}.customers.example.com"),
            _ => format!("https://site{i}.customers.example.com"),
        })
        .collect();
    let patterns = (0..PATTERNS)
        .map(|j| match j {
            j if is_glob_slot(j) => format!("https://pr-*.tenant{j}.example.net"),
            _ => format!("https://*.tenant{j}.example.net"),
        })
        .collect();
    (exact, patterns)
}

fn config_json(exact: usize) -> String {
    let (exact, patterns) = origins(exact);
    let origins: Vec<String> = exact
        .iter()
        .chain(&patterns)
        .map(|o| format!("{o:?}"))
        .collect();
    format!(
        r#"{{"policies": [{{"name": "api", "allow_origins": [{}],
            "allow_methods": ["GET", "POST", "PUT", "DELETE"],
            "allow_headers": ["Content-Type", "Authorization", "X-CSRF-Token"],
            "expose_headers": ["X-RateLimit-Remaining"],
            "allow_credentials": true, "max_age": 3600}}]}}"#,
        origins.join(", ")
    )
}

/// tower-http's equivalent: the exact origins searched as
/// `AllowOrigin::list` searches them (a `Vec`), the patterns by predicate.
fn tower_service(exact: usize) -> Cors<ServiceFn<Upstream>> {
    let (exact, patterns) = origins(exact);
    let (exact, patterns) = (exact.into_iter(), patterns.into_iter());
    let (globs, exact): (Vec<String>, Vec<String>) = exact.partition(|o| o.contains("pr-*"));
    let (more_globs, patterns): (Vec<String>, Vec<String>) =
        patterns.partition(|p| p.contains("pr-*"));
    let exact: Vec<HeaderValue> = exact
        .iter()
        .map(|o| HeaderValue::from_str(o).unwrap())
        .collect();
    // `https://*.suffix` kept as `.suffix`, `https://pr-*.rest` as `.rest`.
    let suffixes: Vec<String> = patterns
        .iter()
        .map(|p| p.replacen("https://*", "", 1))
        .collect();
    let globs: Vec<String> = (globs.iter().chain(&more_globs))
        .map(|g| g.replacen("https://pr-*", "", 1))
        .collect();
    let allow_origin = AllowOrigin::predicate(move |origin: &HeaderValue, _| {
        let origin = origin.as_bytes();
        exact.iter().any(|o| o.as_bytes() == origin)
            || origin.strip_prefix(b"https://").is_some_and(|host| {
                suffixes
                    .iter()
                    .any(|s| host.len() > s.len() && host.ends_with(s.as_bytes()))
                    || host.strip_prefix(b"pr-").is_some_and(|host| {
                        let dot = host.iter().position(|&b| b == b'.').unwrap_or(0);
                        dot > 0
                            && host[..dot]
                                .iter()
                                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
                            && globs.iter().any(|g| host[dot..] == *g.as_bytes())
                    })
            })
    });
    CorsLayer::new()
        .allow_origin(allow_origin)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([
            CONTENT_TYPE,
            AUTHORIZATION,
            HeaderName::from_static("x-csrf-token"),
        ])
        .expose_headers([HeaderName::from_static("x-ratelimit-remaining")])
        .allow_credentials(true)
        .max_age(Duration::from_secs(3600))
        .layer(tower::service_fn(upstream as Upstream))
}

type Upstream = fn(http::Request<()>) -> Ready<Result<http::Response<()>, Infallible>>;

/// The upstream behind tower-http: answers at once.
fn upstream(_: http::Request<()>) -> Ready<Result<http::Response<()>, Infallible>> {
    ready(Ok(http::Response::new(())))
}

/// The upstream's response headers for the engine's edits.
const UPSTREAM: [(&[u8], &[u8]); 2] = [
    (b"content-type", b"application/json"),
    (b"content-length", b"42"),
];

/// One request, as both implementations receive it.
struct Scenario {
    name: &'static str,
    preflight: bool,
    origin: String,
    request_headers: Option<String>,
}

fn scenarios() -> Vec<Scenario> {
    let scenario = |name, preflight, origin: &str, request_headers: Option<&str>| Scenario {
        name,
        preflight,
        origin: origin.into(),
        request_headers: request_headers.map(String::from),
    };
    vec![
        scenario("denied_preflight", true, DENIED, Some("content-type")),
        scenario(
            "allowed_preflight",
            true,
            ALLOWED,
            Some("content-type,x-csrf-token"),
        ),
        scenario("allowed_actual", false, ALLOWED, None),
        scenario("denied_actual", false, DENIED, None),
        scenario("allowed_by_pattern_actual", false, ALLOWED_BY_PATTERN, None),
        scenario("allowed_by_glob_actual", false, ALLOWED_BY_GLOB, None),
    ]
}

/// The hostile preflights, run on the largest config.
fn hostile_scenarios() -> Vec<Scenario> {
    let thousand_names = vec!["Content-Type, X-CSRF-Token"; 500].join(", ");
    let eight_kib_origin = format!("https://{}.example.com", "a".repeat(8192));
    vec![
        Scenario {
            name: "hostile_preflight_8KiB_origin_1000_names",
            preflight: true,
            origin: eight_kib_origin,
            request_headers: Some(thousand_names.clone()),
        },
        Scenario {
            name: "hostile_preflight_1000_names_allowed_origin",
            preflight: true,
            origin: ALLOWED.into(),
            request_headers: Some(thousand_names),
        },
    ]
}

/// The engine's whole part in one request: the decision, then, for a
/// forwarded request, the response edits.
fn ours(policy: &Policy, scenario: &Scenario) {
    let request = Request {
        method: if scenario.preflight {
            b"OPTIONS"
        } else {
            b"GET"
        },
        scheme: b"https",
        authority: b"api.example.com",
        origin: Some(scenario.origin.as_bytes()),
        access_control_request_method: scenario.preflight.then_some(b"PUT".as_slice()),
        access_control_request_headers: scenario.request_headers.as_deref().map(str::as_bytes),
        ..Request::default()
    };
    let decision = policy.decide(black_box(&request));
    if let Action::Forward { allow_origin } = decision.action {
        black_box(policy.edit_response(allow_origin, UPSTREAM));
    } else {
        black_box(decision);
    }
}

fn tower_request(scenario: &Scenario) -> http::Request<()> {
    let mut request = http::Request::builder()
        .method(if scenario.preflight {
            Method::OPTIONS
        } else {
            Method::GET
        })
        .uri("https://api.example.com/api/items")
        .header("origin", &scenario.origin);
    if scenario.preflight {
        request = request.header("access-control-request-method", "PUT");
    }
    if let Some(names) = &scenario.request_headers {
        request = request.header("access-control-request-headers", names);
    }
    request.body(()).unwrap()
}

fn tower(
    service: &mut Cors<ServiceFn<Upstream>>,
    request: http::Request<()>,
) -> http::Response<()> {
    let mut context = Context::from_waker(Waker::noop());
    match pin!(service.call(request)).poll(&mut context) {
        Poll::Ready(Ok(response)) => response,
        _ => unreachable!("the upstream answers at once"),
    }
}

/// One row of the closing table.
struct Row {
    scenario: String,
    origins: usize,
    ours_allocations: f64,
    tower_allocations: Option<f64>,
}

fn bench_decisions(c: &mut Criterion, rows: &mut Vec<Row>) {
    let largest = *SIZES.last().unwrap();
    let runs = SIZES
        .iter()
        .flat_map(|&n| scenarios().into_iter().map(move |s| (n, s)))
        .chain(hostile_scenarios().into_iter().map(|s| (largest, s)));
    for (n, scenario) in runs {
        let config = Config::from_json(config_json(n).as_bytes()).unwrap();
        let policy = &config.policies()[0];
        let mut service = tower_service(n);
        let mut group = c.benchmark_group(scenario.name);
        group.bench_function(BenchmarkId::new("ours", n), |b| {
            b.iter(|| ours(policy, &scenario))
        });
        group.bench_function(BenchmarkId::new("tower-http", n), |b| {
            b.iter_batched(
                || tower_request(&scenario),
                |request| tower(&mut service, request),
                criterion::BatchSize::SmallInput,
            )
        });
        group.finish();
        let requests: Vec<http::Request<()>> =
            (0..1001).map(|_| tower_request(&scenario)).collect();
        let mut requests = requests.into_iter();
        rows.push(Row {
            scenario: scenario.name.into(),
            origins: n,
            ours_allocations: allocations_per_call(|| ours(policy, &scenario)),
            tower_allocations: Some(allocations_per_call(|| {
                drop(tower(&mut service, requests.next().unwrap()));
            })),
        });
    }
}

fn bench_compile(c: &mut Criterion, rows: &mut Vec<Row>) {
    let n = *SIZES.last().unwrap();
    let json = config_json(n);
    let mut group = c.benchmark_group("compile");
    group.sample_size(10);
    group.bench_function(BenchmarkId::new("ours", n), |b| {
        b.iter(|| Config::from_json(black_box(json.as_bytes())).unwrap())
    });
    group.finish();
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    drop(Config::from_json(json.as_bytes()).unwrap());
    rows.push(Row {
        scenario: "compile".into(),
        origins: n,
        ours_allocations: (ALLOCATIONS.load(Ordering::Relaxed) - before) as f64,
        tower_allocations: None,
    });
}

/// Criterion's median for one benchmark, in ns, when it was measured.
fn median_ns(
    criterion_dir: &Path,
    scenario: &str,
    implementation: &str,
    origins: usize,
) -> Option<f64> {
    let path = criterion_dir.join(format!(
        "{scenario}/{implementation}/{origins}/new/estimates.json"
    ));
    let estimates: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    estimates["median"]["point_estimate"].as_f64()
}

fn print_table(rows: &[Row], criterion_dir: Option<&Path>) {
    let ns = |scenario: &str, implementation, origins| {
        criterion_dir.and_then(|dir| median_ns(dir, scenario, implementation, origins))
    };
    let show =
        |v: Option<f64>, decimals: usize| v.map_or("-".to_string(), |v| format!("{v:.decimals$}"));
    println!();
    println!(
        "{:<44} {:>7} {:>12} {:>12} {:>12} {:>12} {:>12}",
        "scenario", "origins", "ours ns", "tower ns", "ours/tower", "ours allocs", "tower allocs"
    );
    for row in rows {
        let ours = ns(&row.scenario, "ours", row.origins);
        let tower = ns(&row.scenario, "tower-http", row.origins);
        let ratio = ours.zip(tower).map(|(o, t)| o / t);
        println!(
            "{:<44} {:>7} {:>12} {:>12} {:>12} {:>12} {:>12}",
            row.scenario,
            row.origins,
            show(ours, 1),
            show(tower, 1),
            show(ratio, 2),
            show(Some(row.ours_allocations), 2),
            show(row.tower_allocations, 2),
        );
    }
}

fn main() {
    // Criterion writes under <target>/criterion; the binary is <target>/<profile>/deps/<name>.
    let exe = std::env::current_exe().unwrap();
    let criterion_dir: PathBuf = exe.ancestors().nth(3).unwrap().join("criterion");
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_millis(1500))
        .sample_size(30)
        .output_directory(&criterion_dir)
        .configure_from_args();
    let mut rows = Vec::new();
    bench_decisions(&mut criterion, &mut rows);
    bench_compile(&mut criterion, &mut rows);
    criterion.final_summary();
    // `cargo bench` passes --bench; without it criterion only checks each benchmark runs.
    let measured = std::env::args().any(|a| a == "--bench");
    print_table(&rows, measured.then_some(criterion_dir.as_path()));
}
