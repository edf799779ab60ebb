//! Floods of mixed traffic for the endurance tests: valid requests whose
//! answers are known exactly, interleaved with hostile ones (the shared
//! [`hostile::requests`] and generated ones), sent from several threads over
//! keep-alive connections; and a proxy's memory, read from `/proc`.
//!
//! The mix is aimed at [`hostile::CONFIG`]. Request `i` of a [`Plan`] is the
//! same every time for the same seed, so a failure names its seed and index
//! and can be replayed (`E2E_FLOOD_SEED`).

use crate::client::{parse_head, Request, Response};
use crate::hostile::{self, api, PREFLIGHT_VARY};
use crate::proxy::Runtime;
use crate::upstream::Upstream;
use crate::vectors::{cors_headers, lines, show, Header};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::ops::Range;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How long one response may take before the flood calls the proxy hung.
const TIMEOUT: Duration = Duration::from_secs(20);

/// How many failure messages a [`Report`] keeps (it counts them all).
const KEPT_FAILURES: usize = 10;

/// The seed: `$E2E_FLOOD_SEED`, or else the clock, so that every run tries
/// other generated requests; a failure message names it.
pub fn seed() -> u64 {
    std::env::var("E2E_FLOOD_SEED")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or_default()
        })
}

/// A valid request and the status and CORS headers it must get.
struct Valid {
    name: &'static str,
    request: Request,
    status: u16,
    cors: Vec<Header>,
}

/// The valid requests, each with its exact answer under [`hostile::CONFIG`].
fn valid_requests() -> Vec<Valid> {
    let allowed_actual = cors_headers(&lines(&[
        ("access-control-allow-origin", "https://a.b.example.org"),
        ("access-control-allow-credentials", "true"),
        ("access-control-expose-headers", "X-Request-Id"),
        ("vary", "Origin"),
    ]));
    vec![
        Valid {
            name: "allowed preflight",
            request: hostile::preflight(),
            status: 204,
            cors: cors_headers(&lines(&[
                ("access-control-allow-origin", "https://app.example.com"),
                ("access-control-allow-credentials", "true"),
                ("access-control-allow-methods", "GET, PUT, DELETE"),
                ("access-control-allow-headers", "content-type"),
                ("access-control-max-age", "600"),
                ("vary", PREFLIGHT_VARY),
            ])),
        },
        Valid {
            name: "preflight from a disallowed origin",
            request: api(b"OPTIONS", b"/api/items")
                .header("Origin", "https://evil.example.net")
                .header("Access-Control-Request-Method", "PUT"),
            status: 403,
            cors: lines(&[("vary", PREFLIGHT_VARY)]),
        },
        Valid {
            name: "allowed GET",
            request: api(b"GET", b"/api/items").header("Origin", "https://a.b.example.org"),
            status: 200,
            cors: allowed_actual,
        },
        Valid {
            name: "rejected GET",
            request: api(b"GET", b"/api/items").header("Origin", "https://evil.example.net"),
            status: 403,
            cors: lines(&[("vary", "Origin")]),
        },
        Valid {
            name: "GET without Origin",
            request: api(b"GET", b"/api/items"),
            status: 200,
            cors: lines(&[("vary", "Origin")]),
        },
        Valid {
            name: "preflight on the star policy",
            request: api(b"OPTIONS", b"/open/x")
                .header("Origin", "https://anyone.example")
                .header("Access-Control-Request-Method", "PROPFIND")
                .header("Access-Control-Request-Headers", "x-one,x-two"),
            status: 204,
            cors: cors_headers(&lines(&[
                ("access-control-allow-origin", "*"),
                ("access-control-allow-methods", "PROPFIND"),
                ("access-control-allow-headers", "x-one,x-two"),
                (
                    "vary",
                    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
                ),
            ])),
        },
        Valid {
            name: "GET out of every policy",
            request: api(b"GET", b"/elsewhere").header("Origin", "https://app.example.com"),
            status: 200,
            cors: Vec::new(),
        },
    ]
}

/// One request of a plan.
pub enum Planned {
    /// A valid request: the answer must be exactly `status` and `cors`.
    Valid {
        /// What it is.
        name: &'static str,
        /// The request.
        request: Request,
        /// The status it must get.
        status: u16,
        /// Its [`cors_headers`], exactly.
        cors: Vec<Header>,
    },
    /// A hostile request: any answer will do, as long as there is one and
    /// it does not show the proxy failing.
    Hostile {
        /// What it is, to name it in a failure.
        label: String,
        /// The request.
        request: Request,
    },
}

/// Which request comes at each index: even indices are the valid requests
/// in turn, odd ones alternate between [`hostile::requests`] in turn and a
/// generated hostile request.
pub struct Plan {
    seed: u64,
    valid: Vec<Valid>,
    hostile: Vec<(String, Request)>,
}

impl Plan {
    /// A plan whose generated requests come from `seed`; `keep` chooses
    /// which of the shared hostile requests to send (a proxy may have a
    /// documented reason to leave some out).
    pub fn new(seed: u64, keep: impl Fn(&Request) -> bool) -> Plan {
        Plan {
            seed,
            valid: valid_requests(),
            hostile: hostile::requests()
                .into_iter()
                .filter(|(_, request)| keep(request))
                .collect(),
        }
    }

    /// Request number `index`.
    pub fn request(&self, index: u64) -> Planned {
        let turn = |count: usize| usize::try_from(index / 2).unwrap_or_default() % count;
        if index.is_multiple_of(2) {
            let valid = &self.valid[turn(self.valid.len())];
            return Planned::Valid {
                name: valid.name,
                request: valid.request.clone(),
                status: valid.status,
                cors: valid.cors.clone(),
            };
        }
        if index % 4 == 1 {
            let (label, request) = &self.hostile[turn(self.hostile.len() * 2) / 2];
            return Planned::Hostile {
                label: label.clone(),
                request: request.clone(),
            };
        }
        let mut rng = Rng::new(self.seed ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let (what, request) = generated(&mut rng);
        Planned::Hostile {
            label: format!("generated #{index} (seed {}): {what}", self.seed),
            request,
        }
    }
}

/// The headers the engine reads, besides `Host`.
const READ_HEADERS: [&str; 5] = [
    "Origin",
    "Access-Control-Request-Method",
    "Access-Control-Request-Headers",
    "Access-Control-Request-Private-Network",
    "Sec-Fetch-Site",
];

/// A generated hostile request and what was done to it.
fn generated(rng: &mut Rng) -> (String, Request) {
    let method = *rng.pick(&[&b"OPTIONS"[..], b"GET", b"POST"]);
    let path = *rng.pick(&[&b"/api/items"[..], b"/open/x", b"/elsewhere"]);
    let base = |method: &[u8], path: &[u8]| {
        api(method, path)
            .header("Origin", "https://app.example.com")
            .header("Access-Control-Request-Method", "PUT")
    };
    let header = *rng.pick(&READ_HEADERS);
    match rng.below(8) {
        0 => {
            let value = rng.bytes(0..=64, |rng| rng.line_byte());
            let what = format!("{header}: {}", show(&value));
            (what, replace(base(method, path), header, value))
        }
        1 => {
            let value = rng.bytes(1..=64, |rng| 0x80 | rng.byte());
            let what = format!("{header} of obs-text {}", show(&value));
            (what, replace(base(method, path), header, value))
        }
        2 => {
            let mut origin = b"https://".to_vec();
            origin.extend(rng.bytes(8 * 1024..=8 * 1024, |rng| rng.line_byte()));
            let what = "an 8 KiB Origin".to_string();
            (what, replace(base(method, path), "Origin", origin))
        }
        3 => {
            let names: Vec<Vec<u8>> = (0..10_000)
                .map(|_| rng.bytes(1..=3, |rng| *rng.pick(b"abcdefghijklmnopqrstuvwxyz-")))
                .collect();
            let what = "Access-Control-Request-Headers of 10,000 names".to_string();
            let request = replace(
                base(b"OPTIONS", path),
                "Access-Control-Request-Headers",
                names.join(&b","[..]),
            );
            (what, request)
        }
        4 => {
            let count = 2 + rng.below(19);
            let mut request = base(method, path);
            request
                .headers
                .retain(|(n, _)| !n.eq_ignore_ascii_case(header.as_bytes()));
            for _ in 0..count {
                let value = rng.bytes(0..=40, |rng| rng.line_byte());
                request = request.header(header, value);
            }
            (format!("{count} {header} lines"), request)
        }
        5 => {
            let mut request = base(method, path);
            request.headers.retain(|(n, _)| n != b"Host");
            ("no Host".to_string(), request)
        }
        6 => {
            let token = rng.bytes(1..=24, |rng| {
                *rng.pick(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-.^_`|~")
            });
            (format!("method {}", show(&token)), base(&token, path))
        }
        _ => {
            let value = rng.bytes(0..=64, |rng| rng.line_byte());
            let what = format!("Host: {}", show(&value));
            (what, replace(base(method, path), "Host", value))
        }
    }
}

/// `request` with every `name` line replaced by one line of `value`.
fn replace(mut request: Request, name: &str, value: Vec<u8>) -> Request {
    request
        .headers
        .retain(|(n, _)| !n.eq_ignore_ascii_case(name.as_bytes()));
    request.header(name, value)
}

/// A seeded `fastrand` generator, with the few ways the flood draws from it.
struct Rng(fastrand::Rng);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(fastrand::Rng::with_seed(seed))
    }

    /// A number in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        self.0.usize(..n)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn byte(&mut self) -> u8 {
        self.0.u8(..)
    }

    /// Any byte that can sit inside a header line: all but CR and LF,
    /// which would end it and could smuggle a second request in.
    fn line_byte(&mut self) -> u8 {
        loop {
            let byte = self.byte();
            if byte != b'\r' && byte != b'\n' {
                return byte;
            }
        }
    }

    fn bytes(
        &mut self,
        lengths: std::ops::RangeInclusive<usize>,
        mut byte: impl FnMut(&mut Rng) -> u8,
    ) -> Vec<u8> {
        let length = self.0.usize(lengths);
        (0..length).map(|_| byte(self)).collect()
    }
}

/// Why a request got no answer.
#[derive(Debug)]
pub enum SendError {
    /// A kept-alive connection was closed before any byte of an answer came
    /// back: the proxy closed it as idle or draining, so the request was
    /// never handled, and a client may send it again on a new connection.
    ClosedUnanswered(io::Error),
    /// Anything else: no connection, a timeout, a broken or cut answer.
    Failed(io::Error),
}

/// An HTTP/1.1 connection kept alive between requests, opened again when
/// the proxy closes it.
pub struct Connection {
    addr: SocketAddr,
    stream: Option<BufReader<TcpStream>>,
    reused: bool,
}

impl Connection {
    /// A connection to `addr`, opened at the first request.
    pub fn new(addr: SocketAddr) -> Connection {
        Connection {
            addr,
            stream: None,
            reused: false,
        }
    }

    /// Sends `request` (without `Connection: close`) and reads its answer.
    ///
    /// # Errors
    /// See [`SendError`]; the connection is dropped either way.
    pub fn send(&mut self, request: &Request) -> Result<Response, SendError> {
        let result = self.exchange(request);
        match result {
            Ok(response) => {
                let closing = response
                    .values("connection")
                    .any(|v| v.eq_ignore_ascii_case(b"close"));
                if closing {
                    self.stream = None;
                } else {
                    self.reused = true;
                }
                Ok(response)
            }
            Err((error, answered)) => {
                let reused = self.reused;
                self.stream = None;
                if reused && !answered {
                    Err(SendError::ClosedUnanswered(error))
                } else {
                    Err(SendError::Failed(error))
                }
            }
        }
    }

    /// The exchange; on error, whether any byte of an answer had come.
    fn exchange(&mut self, request: &Request) -> Result<Response, (io::Error, bool)> {
        if self.stream.is_none() {
            let stream = TcpStream::connect_timeout(&self.addr, TIMEOUT).map_err(|e| (e, false))?;
            stream
                .set_read_timeout(Some(TIMEOUT))
                .map_err(|e| (e, false))?;
            stream
                .set_write_timeout(Some(TIMEOUT))
                .map_err(|e| (e, false))?;
            stream.set_nodelay(true).map_err(|e| (e, false))?;
            self.stream = Some(BufReader::new(stream));
            self.reused = false;
        }
        let Some(reader) = self.stream.as_mut() else {
            unreachable!("opened above");
        };
        reader
            .get_mut()
            .write_all(&request.to_keep_alive_bytes())
            .map_err(|e| (e, false))?;
        read_response(reader, request.method == b"HEAD")
    }
}

/// Reads exactly one response; on error, whether any of it had come. The
/// head is read up to its empty line and parsed with `httparse`; the body
/// is read as its framing says, and no further.
fn read_response(
    reader: &mut BufReader<TcpStream>,
    head_request: bool,
) -> Result<Response, (io::Error, bool)> {
    let mut head = Vec::new();
    loop {
        let before = head.len();
        match reader.read_until(b'\n', &mut head) {
            Ok(0) => {
                let error = io::Error::new(io::ErrorKind::UnexpectedEof, "closed");
                return Err((error, !head.is_empty()));
            }
            Ok(_) => {
                if before > 0 && matches!(&head[before..], b"\r\n" | b"\n") {
                    break;
                }
            }
            Err(e) => return Err((e, !head.is_empty())),
        }
    }
    let incomplete = || io::Error::new(io::ErrorKind::InvalidData, "incomplete head");
    let (_, mut response) = parse_head(&head)
        .and_then(|parsed| parsed.ok_or_else(incomplete))
        .map_err(|e| (e, true))?;
    let no_body = head_request || response.status == 204 || response.status == 304;
    let body = if no_body {
        Ok(Vec::new())
    } else if response.is_chunked() {
        read_chunked(reader)
    } else if let Some(length) = response.content_length() {
        let mut body = Vec::new();
        reader.take(length).read_to_end(&mut body).and_then(|read| {
            if read as u64 == length {
                Ok(body)
            } else {
                Err(io::Error::new(io::ErrorKind::UnexpectedEof, "short body"))
            }
        })
    } else {
        let mut body = Vec::new();
        reader.read_to_end(&mut body).map(|_| body)
    };
    response.body = body.map_err(|e| (e, true))?;
    Ok(response)
}

fn read_chunked(reader: &mut impl BufRead) -> io::Result<Vec<u8>> {
    let bad = || io::Error::new(io::ErrorKind::InvalidData, "bad chunked body");
    let mut body = Vec::new();
    loop {
        let mut line = Vec::new();
        reader.read_until(b'\n', &mut line)?;
        let Ok(httparse::Status::Complete((_, size))) = httparse::parse_chunk_size(&line) else {
            return Err(bad());
        };
        if size == 0 {
            // Trailers, up to the empty line.
            loop {
                line.clear();
                if reader.read_until(b'\n', &mut line)? == 0 || line.trim_ascii().is_empty() {
                    return Ok(body);
                }
            }
        }
        let start = body.len();
        body.resize(start + usize::try_from(size).map_err(|_| bad())?, 0);
        reader.read_exact(&mut body[start..])?;
        let mut crlf = [0; 2];
        reader.read_exact(&mut crlf)?;
    }
}

/// What a flood saw.
#[derive(Debug, Default)]
pub struct Report {
    /// Valid requests answered exactly right.
    pub valid: u64,
    /// Hostile requests answered without a sign of failure.
    pub hostile: u64,
    /// Requests sent again on a new connection because a kept-alive one was
    /// closed before answering ([`SendError::ClosedUnanswered`]).
    pub resent: u64,
    /// Requests that failed: no answer, a wrong answer to a valid request,
    /// or an answer that showed the proxy failing.
    pub failures: u64,
    /// The first few failures, described.
    pub failure_lines: Vec<String>,
}

impl Report {
    /// Every request, answered or not.
    pub fn total(&self) -> u64 {
        self.valid + self.hostile + self.failures
    }

    fn fail(&mut self, line: String) {
        self.failures += 1;
        if self.failure_lines.len() < KEPT_FAILURES {
            self.failure_lines.push(line);
        }
    }

    /// Adds `other`'s counts to these (for a flood sent in rounds).
    pub fn add(&mut self, other: Report) {
        self.valid += other.valid;
        self.hostile += other.hostile;
        self.resent += other.resent;
        self.failures += other.failures;
        let room = KEPT_FAILURES.saturating_sub(self.failure_lines.len());
        self.failure_lines
            .extend(other.failure_lines.into_iter().take(room));
    }
}

/// Sends the flood mix to `proxy` in rounds of `round` requests, 4 threads,
/// until `stop` is set: the load kept up while a test changes the config.
/// Any answer of 500 or more fails, described as happening `during` it.
pub fn load_until(proxy: SocketAddr, stop: &AtomicBool, round: u64, during: &str) -> Report {
    let plan = Plan::new(seed(), |_| true);
    let crashed = |response: &Response| {
        (response.status >= 500).then(|| format!("{}: {during}", response.status))
    };
    let mut report = Report::default();
    let mut start = 0;
    while !stop.load(Ordering::Relaxed) {
        report.add(run(proxy, &plan, start..start + round, 4, &crashed));
        start += round;
    }
    report
}

/// Sends requests `indices` of `plan` to `proxy` from `threads` threads,
/// each over its own kept-alive connection, and checks every answer:
/// a valid request must get exactly its status and CORS headers, and a
/// hostile one must get an answer that `crashed` does not explain as the
/// proxy failing (each proxy shows a crash its own way). A request that a
/// kept-alive connection closed unanswered is sent once more on a new one.
pub fn run(
    proxy: SocketAddr,
    plan: &Plan,
    indices: Range<u64>,
    threads: u64,
    crashed: &(dyn Fn(&Response) -> Option<String> + Sync),
) -> Report {
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|thread| {
                let indices = indices.clone();
                scope.spawn(move || {
                    let mut report = Report::default();
                    let mut connection = Connection::new(proxy);
                    for index in indices.filter(|i| i % threads == thread) {
                        check(&mut connection, plan.request(index), crashed, &mut report);
                    }
                    report
                })
            })
            .collect();
        let mut report = Report::default();
        for worker in workers {
            report.add(worker.join().expect("a flood thread panicked"));
        }
        report
    })
}

fn check(
    connection: &mut Connection,
    planned: Planned,
    crashed: &dyn Fn(&Response) -> Option<String>,
    report: &mut Report,
) {
    let (label, request) = match &planned {
        Planned::Valid { name, request, .. } => (name.to_string(), request),
        Planned::Hostile { label, request } => (label.clone(), request),
    };
    let answer = match connection.send(request) {
        Err(SendError::ClosedUnanswered(_)) => {
            report.resent += 1;
            connection.send(request)
        }
        other => other,
    };
    let response = match answer {
        Ok(response) => response,
        Err(SendError::ClosedUnanswered(e) | SendError::Failed(e)) => {
            return report.fail(format!("{label}: no answer: {e}"));
        }
    };
    if let Some(why) = crashed(&response) {
        return report.fail(format!("{label}: {why}"));
    }
    match planned {
        Planned::Valid { status, cors, .. } => {
            let got = cors_headers(&response.headers);
            if response.status == status && got == cors {
                report.valid += 1;
            } else {
                report.fail(format!(
                    "{label}: expected {status} [{}], got {} [{}]",
                    show_headers(&cors),
                    response.status,
                    show_headers(&got)
                ));
            }
        }
        Planned::Hostile { .. } => report.hostile += 1,
    }
}

fn show_headers(headers: &[Header]) -> String {
    headers
        .iter()
        .map(|(name, value)| format!("{}: {}", show(name), show(value)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// How big a flood is, and whether memory is checked.
#[derive(Debug, Clone, Copy)]
pub struct Flood {
    /// Requests in all, warm-up included.
    pub total: u64,
    /// Client threads, each with its own kept-alive connection.
    pub threads: u64,
    /// When to sample memory and how much it may grow; `None` leaves memory
    /// unchecked.
    pub memory: Option<Memory>,
}

/// The memory rule of a [`Flood`].
#[derive(Debug, Clone, Copy)]
pub struct Memory {
    /// Requests before the first sample: enough for the filter's memory,
    /// the runtime's buffers and its allocator to reach their working size.
    pub warm_up: u64,
    /// The growth allowed after warm-up, in percent.
    pub max_growth_percent: u64,
}

/// Sends a [`Plan`] of `flood.total` requests through `runtime` running
/// [`hostile::CONFIG`]: every valid request must get exactly its answer, no
/// answer may show the proxy failing, the proxy must show no damage, and
/// (with [`Flood::memory`]) its resident memory must stay flat after the
/// warm-up: a leak per request, or a trap that fails every later request,
/// shows up here where a handful of requests would not show it.
///
/// # Panics
/// On any failure, naming the first few and the seed.
pub fn assert_flood(runtime: Runtime, flood: Flood) {
    let upstream = Upstream::start_unrecorded();
    let mut proxy = runtime.serve(hostile::CONFIG, &upstream);
    let plan = Plan::new(seed(), |request| proxy.takes(request));
    let crashed = |response: &Response| proxy.crashed(response);
    let warm_up = flood.memory.map_or(0, |memory| memory.warm_up);
    let rss = || flood.memory.map(|_| settled_rss_kib(proxy.pid()));
    let mut report = run(proxy.addr(), &plan, 0..warm_up, flood.threads, &crashed);
    let rss_warm = rss();
    report.add(run(
        proxy.addr(),
        &plan,
        warm_up..flood.total,
        flood.threads,
        &crashed,
    ));
    let rss_end = rss();
    eprintln!(
        "{} flood: {} requests ({} valid, {} hostile, {} sent again after a kept-alive \
         connection closed){}",
        runtime.name(),
        report.total(),
        report.valid,
        report.hostile,
        report.resent,
        match (rss_warm, rss_end) {
            (Some(warm), Some(end)) =>
                format!("; RSS {warm} KiB after {warm_up} requests, {end} KiB at the end"),
            _ => String::new(),
        }
    );
    assert_eq!(
        report.failures,
        0,
        "{} of {} requests failed (seed {}); the first:\n{}",
        report.failures,
        report.total(),
        plan.seed,
        report.failure_lines.join("\n")
    );
    assert_eq!(report.total(), flood.total);
    let damage = proxy.damage();
    assert!(damage.is_empty(), "{}", damage.join("\n"));
    if let (Some(memory), Some(rss_warm), Some(rss_end)) = (flood.memory, rss_warm, rss_end) {
        assert!(
            rss_end * 100 < rss_warm * (100 + memory.max_growth_percent),
            "{} grew from {rss_warm} KiB after warm-up to {rss_end} KiB, over {}%",
            runtime.name(),
            memory.max_growth_percent
        );
    }
}

/// A process's resident memory in KiB (`VmRSS` in `/proc/<pid>/status`).
///
/// # Panics
/// When the process or the line is not there.
pub fn rss_kib(pid: u32) -> u64 {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(Path::new(&path))
        .unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no VmRSS in {path}"))
}

/// The most of a few samples of [`rss_kib`] a tenth of a second apart, so a
/// moment when the allocator has just handed pages back does not count as
/// the process's size.
pub fn settled_rss_kib(pid: u32) -> u64 {
    (0..5)
        .map(|_| {
            std::thread::sleep(Duration::from_millis(100));
            rss_kib(pid)
        })
        .max()
        .unwrap_or_default()
}
