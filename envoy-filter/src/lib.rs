//! The CORS filter as a proxy-wasm module for Envoy and Istio.
//!
//! Thin glue around `filter-core`: the root context compiles the plugin JSON
//! once, and each HTTP context reads the request header map (in one host
//! call), asks the policy for a decision and carries it out.
//!
//! Headers are only ever read as bytes: the SDK's `String` getters panic on a
//! value that is not UTF-8, and a panic traps the VM, which then fails every
//! later request on that worker.

mod header_map;

use filter_core::{metric_name_part, Action as Cors, Config, Outcome, Policy, Request};
use header_map::{HeaderMap, MapType};
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType, LogLevel, MetricType};
use sha2::{Digest, Sha256};
use std::rc::Rc;

/// Talc in place of the standard library's dlmalloc: the module after
/// wasm-opt is 7.4 KB smaller (206,939 -> 199,579 bytes, issue 11's budget is
/// 200 KB). Its lock-free cell needs a single-threaded VM, as Envoy's are.
#[cfg(all(target_family = "wasm", not(target_feature = "atomics")))]
#[global_allocator]
static TALC: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

proxy_wasm::main! {{
    // Let every record through to Envoy, which filters by its own level; debug
    // lines are only formatted when Envoy wants them (see `debug_enabled`).
    proxy_wasm::set_log_level(LogLevel::Trace);
    proxy_wasm::set_root_context(|_| Box::<Root>::default());
}}

/// The compiled config and its counters, shared by every HTTP context.
struct Filter {
    config: Config,
    /// Counter ids, `[policy index][outcome index]`.
    counters: Vec<[Option<u32>; Outcome::ALL.len()]>,
    /// The name of the gauge naming this config (see [`Filter::new`]).
    info: String,
}

impl Filter {
    /// Compiles the plugin JSON (whose [`short_hash`] is `hash`) and defines
    /// its metrics.
    ///
    /// Every metric name carries its labels in the form Istio's
    /// `extraStatTags` extracts (`tag=.=value;.;`), so Envoy's tag extractors
    /// (deploy/envoy) or Istio turn them into Prometheus labels:
    /// - `cors_requests_total{policy, mode, outcome}`, one counter per policy
    ///   and outcome;
    /// - `cors_config_info{config_hash, policies}`, a gauge that is 1 for
    ///   the config serving and 0 for those it replaced (see
    ///   [`Filter::mark_live`]), so after a refused update it still names
    ///   the old config.
    fn new(json: &[u8], hash: &str) -> Result<Filter, filter_core::ConfigErrors> {
        let config = Config::from_json(json)?;
        let mode = if config.is_shadow() {
            "shadow"
        } else {
            "enforce"
        };
        let counters = config
            .policies()
            .iter()
            .map(|policy| {
                let policy = metric_name_part(policy.name());
                Outcome::ALL.map(|outcome| {
                    let outcome = outcome.as_str();
                    define(
                        MetricType::Counter,
                        &format!(
                            "policy=.={policy};.;mode=.={mode};.;outcome=.={outcome};.;cors_requests_total"
                        ),
                    )
                })
            })
            .collect();
        let info = format!(
            "config_hash=.={hash};.;policies=.={};.;cors_config_info",
            config.policies().len()
        );
        Ok(Filter {
            config,
            counters,
            info,
        })
    }

    fn count(&self, policy: &Policy, outcome: Outcome) {
        if let Some(Some(id)) = self
            .counters
            .get(policy.index())
            .map(|ids| ids[outcome.index()])
        {
            // A failed increment loses one count; nothing to do about it here.
            let _ = hostcalls::increment_metric(id, 1);
        }
    }

    /// Sets this config's gauge to 1 and the previous config's to 0.
    ///
    /// The previous config ran in other VMs, which Envoy tears down after an
    /// update without telling them, so its gauge name is kept in the shared
    /// data that Envoy keeps for every VM with this `vm_id`.
    fn mark_live(&self) {
        if let Ok((Some(previous), _)) = hostcalls::get_shared_data(LIVE_CONFIG_KEY) {
            if previous != self.info.as_bytes() {
                if let Some(id) = std::str::from_utf8(&previous)
                    .ok()
                    .and_then(|previous| define(MetricType::Gauge, previous))
                {
                    let _ = hostcalls::record_metric(id, 0);
                }
            }
        }
        if let Some(id) = define(MetricType::Gauge, &self.info) {
            let _ = hostcalls::record_metric(id, 1);
        }
        let _ = hostcalls::set_shared_data(LIVE_CONFIG_KEY, Some(self.info.as_bytes()), None);
    }
}

/// The shared-data key holding the live config's gauge name.
const LIVE_CONFIG_KEY: &str = "cors-filter.live-config";

/// The first 12 hex digits of the document's SHA-256: the operator compares
/// them with `sha256sum` of the config that was pushed.
fn short_hash(document: &[u8]) -> String {
    Sha256::digest(document)
        .iter()
        .take(6)
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Defines a metric. Should Envoy refuse one, the filter runs without it
/// rather than refuse a valid config over a statistic.
fn define(kind: MetricType, name: &str) -> Option<u32> {
    hostcalls::define_metric(kind, name).ok()
}

#[link(wasm_import_module = "env")]
extern "C" {
    /// The SDK's `get_log_level` reads the answer into its `LogLevel` enum,
    /// but Envoy answers with spdlog's level, where 6 means "off": a value
    /// that enum cannot hold. Read it as the plain integer it is.
    fn proxy_get_log_level(return_level: *mut u32) -> u32;
}

/// Whether Envoy currently logs this module's debug lines (`wasm` at debug or
/// trace). Asked at each denial, so a level changed through the admin
/// `/logging` endpoint applies at once, and nothing is formatted otherwise.
fn debug_enabled() -> bool {
    let mut level = u32::MAX;
    // SAFETY: the host writes one u32 through a pointer to a local u32.
    let status = unsafe { proxy_get_log_level(&mut level) };
    status == 0 && level <= LogLevel::Debug as u32
}

/// One per plugin (and per VM): owns the compiled config.
#[derive(Default)]
struct Root {
    filter: Option<Rc<Filter>>,
}

impl Context for Root {}

impl RootContext for Root {
    /// Compiles the config once. On any problem, logs one line per problem
    /// (policy, field, value) and returns false, so Envoy refuses the plugin
    /// rather than run it with some default.
    fn on_configure(&mut self, _plugin_configuration_size: usize) -> bool {
        let json = self.get_plugin_configuration().unwrap_or_default();
        let version = env!("CARGO_PKG_VERSION");
        let hash = short_hash(&json);
        match Filter::new(&json, &hash) {
            Ok(filter) => {
                log::info!(
                    "cors-filter {version}: config {hash} serving, {} policies",
                    filter.config.policies().len()
                );
                filter.mark_live();
                self.filter = Some(Rc::new(filter));
                true
            }
            Err(errors) => {
                for error in errors.iter() {
                    log::error!("config refused: {error}");
                }
                let problems = errors.iter().count();
                let plural = if problems == 1 { "" } else { "s" };
                log::error!(
                    "cors-filter {version}: config {hash} refused, {problems} problem{plural}"
                );
                false
            }
        }
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(match &self.filter {
            Some(filter) => Box::new(Stream {
                filter: Rc::clone(filter),
                response: Response::Untouched,
            }),
            // Envoy creates no stream for a plugin whose on_configure failed,
            // but the SDK panics on `None`, so stay total.
            None => Box::new(Untouched),
        })
    }
}

/// A stream that is left alone.
struct Untouched;

impl Context for Untouched {}
impl HttpContext for Untouched {}

/// One HTTP request and its response.
struct Stream {
    filter: Rc<Filter>,
    response: Response,
}

/// What `on_http_response_headers` must do.
enum Response {
    /// Out of scope, shadow mode, or answered at the edge. A local reply from
    /// `send_http_response` passes through this filter's own response
    /// callback too, and must not be edited a second time.
    Untouched,
    /// Forwarded in a policy's scope: apply the policy's response edits.
    Edit {
        policy: usize,
        allow_origin: Option<Box<str>>,
    },
}

impl Context for Stream {}

impl HttpContext for Stream {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        let filter = Rc::clone(&self.filter);
        // One host call for the whole map: a single read costs as much as
        // 3 to 4 single-header reads (see `header_map`), and every in-scope
        // request needs 4 to 7 headers.
        let map = HeaderMap::read(MapType::HttpRequestHeaders);
        let headers = map.lines();
        let authority = headers.get(b":authority").unwrap_or_default();
        let path = headers.get(b":path").unwrap_or_default();
        let Some(policy) = filter.config.policy_for(&authority, &path) else {
            return Action::Continue;
        };
        let method = headers.get(b":method").unwrap_or_default();
        let scheme = headers.get(b":scheme").unwrap_or_default();
        let origin = headers.get(b"origin");
        let request_method = headers.get(b"access-control-request-method");
        let request_headers = headers.get(b"access-control-request-headers");
        let private_network = headers.get(b"access-control-request-private-network");
        // Envoy joins repeated lines only for the headers it stores inline
        // (its CORS filter registers Origin and the Access-Control-Request-*
        // ones); Sec-Fetch-Site is not, so its lines arrive apart and `get`
        // joins them: a second line means it is not `same-origin`, whatever
        // the first says.
        let sec_fetch_site = headers.get(b"sec-fetch-site");
        let decision = policy.decide(&Request {
            method: &method,
            scheme: &scheme,
            authority: &authority,
            origin: origin.as_deref(),
            access_control_request_method: request_method.as_deref(),
            access_control_request_headers: request_headers.as_deref(),
            access_control_request_private_network: private_network.as_deref(),
            sec_fetch_site: sec_fetch_site.as_deref(),
        });
        filter.count(policy, decision.outcome);
        if let Some(denial) = decision.denial {
            if debug_enabled() {
                log::debug!(
                    "policy \"{}\": {}: {denial}",
                    policy.name(),
                    decision.outcome.as_str()
                );
            }
        }
        // Shadow mode: counted and logged above, nothing carried out.
        let Some(action) = decision.to_carry_out() else {
            return Action::Continue;
        };
        match action {
            Cors::Respond { status, headers } => {
                self.send_http_response((*status).into(), headers.iter().collect(), None);
                Action::Pause
            }
            Cors::Forward { allow_origin } => {
                self.response = Response::Edit {
                    policy: policy.index(),
                    allow_origin: allow_origin.map(Box::from),
                };
                Action::Continue
            }
        }
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        let Response::Edit {
            policy,
            allow_origin,
        } = &self.response
        else {
            return Action::Continue;
        };
        let Some(policy) = self.filter.config.policies().get(*policy) else {
            return Action::Continue;
        };
        let upstream = HeaderMap::read(MapType::HttpResponseHeaders);
        let edits = policy.edit_response(allow_origin.as_deref(), upstream.pairs());
        // The SDK takes names as `str`; Envoy only stores token names, which
        // are ASCII.
        for name in edits
            .remove
            .iter()
            .filter_map(|n| std::str::from_utf8(n).ok())
        {
            self.set_http_response_header(name, None);
        }
        for (name, value) in edits.set.iter() {
            self.set_http_response_header(name, Some(value));
        }
        Action::Continue
    }
}
