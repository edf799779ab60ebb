//! The runtimes the filter runs in, behind one [`Proxy`] trait, so that the
//! vectors ([`conformance`](crate::conformance)), hostile traffic
//! ([`hostile`](crate::hostile)) and floods ([`flood`](crate::flood)) are
//! written once and run against each [`Runtime`].
//!
//! What differs between runtimes stays here, each difference with its
//! reason: how a client reaches the proxy, what the runtime itself answers
//! before the filter runs ([`Proxy::expectation`]), what it records of the
//! filter's decisions, and how a crash shows.
//!
//! Adding a runtime: a [`Runtime`] variant, a type implementing [`Proxy`],
//! and a test file calling the shared checks with it (`tests/README.md`).

use crate::client::{Request, Response};
use crate::envoy::{self, Envoy};
use crate::h2c;
use crate::upstream::Upstream;
use crate::vectors::{Case, Expect, Header};
use crate::workerd::{CorsConfig, Workerd};
use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;

/// A runtime the filter can be started in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    /// Real Envoy running the module, spoken to over HTTP/1.1.
    Envoy,
    /// The same Envoy, spoken to over HTTP/2 with prior knowledge (h2c):
    /// its listener detects the protocol from the connection preface.
    EnvoyHttp2,
    /// Real workerd running the Worker, forwarding through `ORIGIN_URL`.
    Workerd,
}

impl Runtime {
    /// Starts the filter with `plugin_config` in front of `upstream`, and
    /// waits until it serves.
    ///
    /// # Errors
    /// The runtime did not start (a refused config, a missing artifact),
    /// with its log.
    pub fn start(self, plugin_config: &str, upstream: &Upstream) -> Result<Box<dyn Proxy>, String> {
        match self {
            Runtime::Envoy | Runtime::EnvoyHttp2 => {
                let envoy = Envoy::start(plugin_config, upstream.addr(), &[])
                    .map_err(|failure| failure.to_string())?;
                let vm_stats = envoy.vm_stats();
                Ok(Box::new(EnvoyProxy {
                    envoy,
                    http2: self == Runtime::EnvoyHttp2,
                    vm_stats,
                }))
            }
            Runtime::Workerd => {
                let origin_url = format!("http://{}", upstream.addr());
                let workerd = Workerd::start(CorsConfig::Text(plugin_config), Some(&origin_url))
                    .map_err(|f| format!("workerd did not start ({:?}):\n{}", f.status, f.log))?;
                Ok(Box::new(WorkerdProxy { workerd }))
            }
        }
    }

    /// [`start`](Runtime::start), failing the test when it does not.
    ///
    /// # Panics
    /// When the runtime does not start.
    pub fn serve(self, plugin_config: &str, upstream: &Upstream) -> Box<dyn Proxy> {
        self.start(plugin_config, upstream)
            .unwrap_or_else(|why| panic!("{why}"))
    }

    /// How messages name it.
    pub fn name(self) -> &'static str {
        match self {
            Runtime::Envoy => "Envoy (HTTP/1.1)",
            Runtime::EnvoyHttp2 => "Envoy (HTTP/2)",
            Runtime::Workerd => "workerd",
        }
    }
}

/// What a runtime does with a vector case.
#[derive(Debug, Clone)]
pub enum Expectation {
    /// The vector's own answer.
    Vector,
    /// The runtime answers this itself, before the filter runs.
    Instead {
        /// What the client sees instead.
        expect: Expect,
        /// Why.
        reason: &'static str,
    },
    /// The runtime changes the request before the filter runs, into this
    /// one: the answer must be the one this request gets. (It has no
    /// vector answer of its own, so its recorded outcomes are not checked.)
    SameAs {
        /// The request as the filter sees it.
        case: Box<Case>,
        /// Why.
        reason: &'static str,
    },
    /// Not sent: the protocol cannot express the request.
    Skipped(String),
}

/// A running filter in one runtime; stopped on drop.
pub trait Proxy: Send + Sync {
    /// The runtime it runs in.
    fn runtime(&self) -> Runtime;

    /// Where it listens (HTTP/1.1 and, for Envoy, HTTP/2 alike).
    fn addr(&self) -> SocketAddr;

    /// Sends `request` the way this runtime's clients do and reads the
    /// whole answer.
    ///
    /// # Errors
    /// No answer came, or the request cannot be sent this way.
    fn send(&self, request: &Request) -> io::Result<Response>;

    /// What this runtime does with `case`.
    fn expectation(&self, case: &Case) -> Expectation;

    /// The filter's decisions recorded so far, by outcome: Envoy's
    /// counters, the Worker's denial log lines.
    fn recorded(&self) -> BTreeMap<String, u64>;

    /// Whether a decision with `outcome` is recorded at all.
    fn records(&self, outcome: &str) -> bool;

    /// Why `response` shows the runtime failing, if it does: each runtime
    /// shows a crash with its own status.
    fn crashed(&self, response: &Response) -> Option<String>;

    /// Whether a hostile request applies to this runtime.
    fn takes(&self, request: &Request) -> bool;

    /// Signs, since it started, that the filter trapped or panicked, or
    /// that the runtime replaced it or exited; empty when there are none.
    fn damage(&mut self) -> Vec<String>;

    /// The process id, to read its memory from `/proc`.
    fn pid(&self) -> u32;
}

struct EnvoyProxy {
    envoy: Envoy,
    http2: bool,
    /// The wasm stats at start, which change when a VM is replaced.
    vm_stats: BTreeMap<String, u64>,
}

impl Proxy for EnvoyProxy {
    fn runtime(&self) -> Runtime {
        if self.http2 {
            Runtime::EnvoyHttp2
        } else {
            Runtime::Envoy
        }
    }

    fn addr(&self) -> SocketAddr {
        self.envoy.listener()
    }

    fn send(&self, request: &Request) -> io::Result<Response> {
        if self.http2 {
            h2c::send(self.addr(), request)
        } else {
            request.send(self.addr())
        }
    }

    fn expectation(&self, case: &Case) -> Expectation {
        if self.http2 {
            return match h2c::to_http2(&vector_request(case)) {
                Ok(_) => Expectation::Vector,
                Err(why) => Expectation::Skipped(why),
            };
        }
        if case.request.path.iter().any(|&b| b > 0x7f) {
            return Expectation::Instead {
                expect: refused_by_the_runtime(),
                reason: "Envoy's HTTP/1 codec answers 400 to a target byte above 0x7F \
                         (HPE_INVALID_URL) before any filter runs",
            };
        }
        Expectation::Vector
    }

    fn recorded(&self) -> BTreeMap<String, u64> {
        self.envoy.outcome_counters()
    }

    fn records(&self, _outcome: &str) -> bool {
        true
    }

    /// A trapped VM answers 503 under the default fail-closed policy; Envoy
    /// answers no other 5xx here (the upstream is up and answers 200).
    fn crashed(&self, response: &Response) -> Option<String> {
        (response.status >= 500).then(|| format!("{}: the VM may have failed", response.status))
    }

    fn takes(&self, _request: &Request) -> bool {
        true
    }

    fn damage(&mut self) -> Vec<String> {
        let mut damage = Vec::new();
        if !self.envoy.is_running() {
            damage.push("Envoy exited".to_string());
        }
        if self.envoy.vm_stats() != self.vm_stats {
            damage.push(format!(
                "a VM was replaced or reloaded: {:?} -> {:?}",
                self.vm_stats,
                self.envoy.vm_stats()
            ));
        }
        let log = self.envoy.log();
        damage.extend(envoy::trap_lines(&log).into_iter().map(String::from));
        // Without a config change nothing may fail at all: a VM that failed
        // to start or to answer logs `failed`.
        damage.extend(
            log.lines()
                .filter(|l| l.contains("failed"))
                .map(String::from),
        );
        damage
    }

    fn pid(&self) -> u32 {
        self.envoy.pid()
    }
}

/// The outcomes the Worker logs (one JSON line per denial); the others
/// leave no trace.
const WORKER_DENIALS: [&str; 5] = [
    "preflight_denied_origin",
    "preflight_denied_method",
    "preflight_denied_headers",
    "actual_denied",
    "actual_rejected",
];

struct WorkerdProxy {
    workerd: Workerd,
}

impl Proxy for WorkerdProxy {
    fn runtime(&self) -> Runtime {
        Runtime::Workerd
    }

    fn addr(&self) -> SocketAddr {
        self.workerd.addr()
    }

    fn send(&self, request: &Request) -> io::Result<Response> {
        request.send(self.addr())
    }

    fn expectation(&self, case: &Case) -> Expectation {
        if std::str::from_utf8(&case.request.path).is_err() {
            return Expectation::Instead {
                expect: refused_by_the_runtime(),
                reason: "workerd answers `400 invalid URI` to a target that is not UTF-8 \
                         before any Worker runs",
            };
        }
        let empty_origin = |(name, value): &Header| {
            name.eq_ignore_ascii_case(b"origin") && value.trim_ascii().is_empty()
        };
        if case.request.headers.iter().any(empty_origin) {
            let mut without = case.clone();
            without.request.headers.retain(|h| !empty_origin(h));
            return Expectation::SameAs {
                case: Box::new(without),
                reason: "workerd drops an Origin line with an empty value (as it does an \
                         empty Referer or User-Agent) before the Worker sees it",
            };
        }
        Expectation::Vector
    }

    fn recorded(&self) -> BTreeMap<String, u64> {
        let mut counts = BTreeMap::new();
        for denial in self.workerd.denials() {
            *counts.entry(denial.outcome).or_insert(0) += 1;
        }
        counts
    }

    fn records(&self, outcome: &str) -> bool {
        WORKER_DENIALS.contains(&outcome)
    }

    /// workerd answers 500 when the Worker throws or its module traps. (Its
    /// own HTTP parser answers 501 to a method it does not know, before the
    /// Worker runs: not a crash.)
    fn crashed(&self, response: &Response) -> Option<String> {
        (response.status == 500).then(|| format!("500 {}", String::from_utf8_lossy(&response.body)))
    }

    /// workerd hands CONNECT to a connect() handler, which a fetch-only
    /// Worker lacks; Cloudflare never routes CONNECT to a Worker.
    fn takes(&self, request: &Request) -> bool {
        request.method != b"CONNECT"
    }

    /// The worker-build shim re-instantiates a trapped module on the next
    /// request, so later answers do not show a crash; the log does.
    fn damage(&mut self) -> Vec<String> {
        let mut damage = self.workerd.crash_lines();
        if !self.workerd.is_running() {
            damage.push("workerd exited".to_string());
        }
        damage
    }

    fn pid(&self) -> u32 {
        self.workerd.pid()
    }
}

/// A runtime's own refusal: 400, nothing forwarded, no CORS header, no
/// decision.
fn refused_by_the_runtime() -> Expect {
    Expect {
        forwarded: false,
        status: 400,
        headers: Vec::new(),
        outcome: None,
    }
}

/// A case's request as a client sends it: `Host` first, then its lines.
pub fn vector_request(case: &Case) -> Request {
    let request = &case.request;
    let mut http = Request::new(request.method.clone(), request.path.clone())
        .header("Host", request.authority.clone());
    for (name, value) in &request.headers {
        http = http.header(name.clone(), value.clone());
    }
    http
}
