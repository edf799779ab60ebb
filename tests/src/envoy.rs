//! A real Envoy running the module (`target/envoy-filter.wasm`) in front of
//! an [`Upstream`](crate::upstream::Upstream).
//!
//! The bootstrap is generated as JSON (valid YAML) by [`Bootstrap`], the one
//! generator every test and script uses (scripts through the `serve`
//! binary). Envoy binds port 0 for
//! both the admin and the HTTP listener and the harness asks it where they
//! ended up, so parallel tests never race for a port. One worker thread
//! (`--concurrency 1`), no hot restart (so instances do not collide on its
//! shared-memory socket), logs to a file that failure messages quote.

use crate::{client, TempDir};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long Envoy may take to become ready (a cold start takes well under a
/// second; CI machines are shared).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The plugin's name in Envoy: its log lines read `wasm log cors ...`.
pub const PLUGIN_NAME: &str = "cors";

/// `$ENVOY_BIN`, or the one from `env.sh`.
pub fn envoy_bin() -> PathBuf {
    crate::tool("ENVOY_BIN")
}

/// The built module, `target/envoy-filter.wasm` (`$ENVOY_FILTER_WASM` overrides).
///
/// # Panics
/// When it does not exist: build it with `scripts/build-wasm.sh envoy`.
pub fn module_path() -> PathBuf {
    let path = std::env::var_os("ENVOY_FILTER_WASM")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::workspace_root().join("target/envoy-filter.wasm"));
    assert!(
        path.exists(),
        "{} does not exist: build it with scripts/build-wasm.sh envoy",
        path.display()
    );
    path
}

/// The plugin's HTTP filter entry name: the `cors` filter in the deploy kit.
const WASM_FILTER: &str = "envoy.filters.http.wasm";

/// What the listener's HTTP filters do before the router.
#[derive(Debug, Clone)]
pub enum Filter {
    /// The module at `module`, configured with the plugin JSON text `config`.
    Module {
        /// The plugin JSON text.
        config: String,
        /// The built module.
        module: PathBuf,
    },
    /// An HTTP filter entry as given: the deploy kit's (see
    /// [`Filter::from_deploy_kit`]), or one with an ECDS `config_discovery`.
    Entry(Value),
    /// Envoy's native CORS filter, with `policy` (a `CorsPolicy`) on the
    /// routes under `prefix`: what a benchmark compares the module with.
    NativeCors {
        /// The `CorsPolicy` of the routes under `prefix`.
        policy: Value,
        /// The path prefix of the routes it applies to.
        prefix: String,
    },
    /// The router alone: the floor a benchmark measures from.
    None,
}

impl Filter {
    /// The built module ([`module_path`]) with the plugin JSON text `config`.
    pub fn module(config: &str) -> Filter {
        Filter::Module {
            config: config.to_string(),
            module: module_path(),
        }
    }

    /// The module's HTTP filter entry in a deploy kit's Envoy config (YAML,
    /// such as `deploy/envoy/envoy.yaml`), with `module` as its code, the
    /// kit's path-normalization settings of the connection manager, and its
    /// `stats_config` (the tags that label the counters), so that a demo
    /// runs the filter as users copy it.
    ///
    /// # Errors
    /// The text is not YAML, or has no connection manager with the module's
    /// filter.
    pub fn from_deploy_kit(yaml: &str, module: &Path) -> Result<KitFilter, String> {
        let kit: Value = serde_saphyr::from_str(yaml).map_err(|e| format!("not YAML: {e}"))?;
        let managers = kit["static_resources"]["listeners"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|l| l["filter_chains"].as_array().into_iter().flatten())
            .flat_map(|c| c["filters"].as_array().into_iter().flatten())
            .filter(|f| f["name"] == "envoy.filters.network.http_connection_manager")
            .map(|f| &f["typed_config"]);
        for manager in managers {
            let filters = manager["http_filters"].as_array().into_iter().flatten();
            let Some(entry) = filters
                .into_iter()
                .find(|f| f["typed_config"]["@type"] == WASM_TYPE)
            else {
                continue;
            };
            let mut entry = entry.clone();
            entry["typed_config"]["config"]["vm_config"]["code"] =
                json!({"local": {"filename": module.to_string_lossy()}});
            let settings = [
                "normalize_path",
                "merge_slashes",
                "path_with_escaped_slashes_action",
            ]
            .into_iter()
            .filter_map(|key| Some((key.to_string(), manager.get(key)?.clone())))
            .collect();
            return Ok(KitFilter {
                filter: Filter::Entry(entry),
                connection_manager: settings,
                stats_config: kit.get("stats_config").cloned(),
            });
        }
        Err(format!(
            "no connection manager with an HTTP filter of type {WASM_TYPE}"
        ))
    }
}

/// What [`Filter::from_deploy_kit`] takes from a deploy kit's Envoy config.
pub struct KitFilter {
    /// The module's filter entry.
    pub filter: Filter,
    /// The connection manager's path-normalization settings.
    pub connection_manager: Map<String, Value>,
    /// The bootstrap's `stats_config`, if the kit has one.
    pub stats_config: Option<Value>,
}

const WASM_TYPE: &str = "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm";

/// Where the routes go.
#[derive(Debug, Clone)]
pub enum Target {
    /// The `upstream` cluster, whose one endpoint is this address.
    Upstream(SocketAddr),
    /// Envoy answers itself, as a stand-in upstream: this status and body,
    /// with these response headers added.
    Direct {
        /// The status.
        status: u16,
        /// The body.
        body: String,
        /// Header lines added to every answer (`(name, value)`).
        headers: Vec<(String, String)>,
    },
}

/// The one generator of Envoy bootstraps, for the tests, the `serve` binary
/// and through it the scripts (demo, soak, benchmark): an admin endpoint,
/// one HTTP listener named `http` whose filters are [`Filter`] then the
/// router, and every route to [`Target`].
#[derive(Debug, Clone)]
pub struct Bootstrap {
    /// The HTTP filters before the router.
    pub filter: Filter,
    /// Where the routes go.
    pub target: Target,
    /// The HTTP listener's port on 127.0.0.1; 0 lets Envoy pick (the
    /// harness asks it which).
    pub port: u16,
    /// The admin port on 127.0.0.1; 0 lets Envoy pick.
    pub admin_port: u16,
    /// The connection manager's `stat_prefix`: its counters are
    /// `http.<stat_prefix>.*`.
    pub stat_prefix: String,
    /// More connection manager fields, set over the defaults (such as the
    /// deploy kit's path normalization).
    pub connection_manager: Map<String, Value>,
    /// The bootstrap's `stats_config` (such as the deploy kit's stats tags).
    pub stats_config: Option<Value>,
    /// Path prefixes whose routes turn the filter off, as the deploy kit's
    /// `/healthz` route does: a request there never enters it.
    pub filter_off: Vec<String>,
    /// A path prefix outside which the filter is skipped: the filter is
    /// wrapped in an `ExtensionWithMatcher` that skips it.
    pub filter_only_under: Option<String>,
}

impl Bootstrap {
    /// `filter` in front of `target`, ports chosen by Envoy, stat prefix
    /// `ingress`.
    pub fn new(filter: Filter, target: Target) -> Bootstrap {
        Bootstrap {
            filter,
            target,
            port: 0,
            admin_port: 0,
            stat_prefix: "ingress".to_string(),
            connection_manager: Map::new(),
            stats_config: None,
            filter_off: Vec::new(),
            filter_only_under: None,
        }
    }

    /// The bootstrap document. Envoy reads JSON as YAML.
    pub fn to_json(&self) -> Value {
        let clusters: Vec<Value> = match self.target {
            Target::Upstream(upstream) => vec![cluster(upstream)],
            Target::Direct { .. } => Vec::new(),
        };
        let mut bootstrap = json!({
            "admin": {"address": socket(self.admin_port)},
            "static_resources": {"listeners": [self.listener()], "clusters": clusters},
        });
        if let Some(stats_config) = &self.stats_config {
            bootstrap["stats_config"] = stats_config.clone();
        }
        bootstrap
    }

    /// The bootstrap with the listener read from the LDS file `lds` (see
    /// [`lds_file`](Bootstrap::lds_file)), watched for changes as a control
    /// plane such as Istio's would push them, instead of a static one.
    pub fn to_json_with_lds(&self, lds: &Path) -> Value {
        let mut bootstrap = self.to_json();
        bootstrap["static_resources"]["listeners"] = json!([]);
        let watched = lds.parent().unwrap_or(Path::new("/"));
        // LDS needs a node identity, even from a file.
        bootstrap["node"] = json!({"id": "e2e", "cluster": "e2e"});
        bootstrap["dynamic_resources"] = json!({"lds_config": {
            "resource_api_version": "V3",
            "path_config_source": {
                "path": lds.to_string_lossy(),
                "watched_directory": {"path": watched.to_string_lossy()},
            },
        }});
        bootstrap
    }

    /// The content of an LDS file holding the listener.
    pub fn lds_file(&self) -> Value {
        let mut listener = self.listener();
        listener["@type"] = json!("type.googleapis.com/envoy.config.listener.v3.Listener");
        json!({"resources": [listener]})
    }

    /// The listener named `http` alone, as an LDS resource carries it.
    pub fn listener(&self) -> Value {
        let router = json!({
            "name": "envoy.filters.http.router",
            "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"},
        });
        let mut filters = Vec::new();
        let mut routes = Vec::new();
        let route = self.route();
        match &self.filter {
            Filter::Module { config, module } => filters.push(wasm_filter(config, module)),
            Filter::Entry(entry) => filters.push(entry.clone()),
            Filter::NativeCors { policy, prefix } => {
                filters.push(json!({
                    "name": "envoy.filters.http.cors",
                    "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors"},
                }));
                let mut scoped = route.clone();
                scoped["match"] = json!({"prefix": prefix});
                scoped["typed_per_filter_config"] = json!({"envoy.filters.http.cors": policy});
                routes.push(scoped);
            }
            Filter::None => {}
        }
        // Without a filter the routes are kept, so that every variant of a
        // benchmark has the same routes.
        let off = filters
            .first()
            .and_then(|f| f["name"].as_str())
            .map(|name| {
                json!({name: {
                    "@type": "type.googleapis.com/envoy.config.route.v3.FilterConfig",
                    "disabled": true,
                }})
            });
        let off_routes = self.filter_off.iter().map(|prefix| {
            let mut skip = route.clone();
            skip["match"] = json!({"prefix": prefix});
            if let Some(off) = &off {
                skip["typed_per_filter_config"] = off.clone();
            }
            skip
        });
        routes.splice(0..0, off_routes);
        if let (Some(prefix), Some(filter)) = (&self.filter_only_under, filters.first_mut()) {
            *filter = skipped_outside(filter.clone(), prefix);
        }
        routes.push(route);
        filters.push(router);
        let mut connection_manager = json!({
            "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
            "stat_prefix": self.stat_prefix,
            // Above the 60 KiB default, so that a 64 KiB header reaches the
            // module instead of being answered 431 by Envoy.
            "max_request_headers_kb": 96,
            // A client that reads to EOF would otherwise wait up to 1 s after
            // each answer on a closing connection.
            "delayed_close_timeout": "0s",
            "route_config": {
                "virtual_hosts": [{"name": "all", "domains": ["*"], "routes": routes}],
            },
            "http_filters": filters,
        });
        for (key, value) in &self.connection_manager {
            connection_manager[key] = value.clone();
        }
        json!({
            "name": "http",
            "address": socket(self.port),
            "filter_chains": [{"filters": [{
                "name": "envoy.filters.network.http_connection_manager",
                "typed_config": connection_manager,
            }]}],
        })
    }

    /// The route every request takes (after the native filter's, if any).
    fn route(&self) -> Value {
        match &self.target {
            Target::Upstream(_) => {
                json!({"match": {"prefix": "/"}, "route": {"cluster": "upstream"}})
            }
            Target::Direct {
                status,
                body,
                headers,
            } => json!({
                "match": {"prefix": "/"},
                "direct_response": {"status": status, "body": {"inline_string": body}},
                "response_headers_to_add": headers
                    .iter()
                    .map(|(key, value)| json!({"header": {"key": key, "value": value}}))
                    .collect::<Vec<_>>(),
            }),
        }
    }
}

/// The module's HTTP filter entry, configured by `plugin_config`.
fn wasm_filter(plugin_config: &str, module: &Path) -> Value {
    json!({
        "name": WASM_FILTER,
        "typed_config": {
            "@type": WASM_TYPE,
            "config": {
                "name": PLUGIN_NAME,
                "root_id": "",
                "configuration": {
                    "@type": "type.googleapis.com/google.protobuf.StringValue",
                    "value": plugin_config,
                },
                "vm_config": {
                    "vm_id": PLUGIN_NAME,
                    "runtime": "envoy.wasm.runtime.v8",
                    "code": {"local": {"filename": module.to_string_lossy()}},
                },
            },
        },
    })
}

/// The HTTP filter entry `filter` wrapped in an `ExtensionWithMatcher` that
/// skips it for every request whose `:path` does not start with `prefix`:
/// the way to run a Wasm filter only where a policy can apply, since a route
/// cannot turn a disabled Wasm filter on (Envoy refuses per-route config for
/// it).
fn skipped_outside(filter: Value, prefix: &str) -> Value {
    let path = json!({
        "name": "path",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.type.matcher.v3.HttpRequestHeaderMatchInput",
            "header_name": ":path",
        },
    });
    let skip = json!({
        "name": "skip",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.common.matcher.action.v3.SkipFilter",
        },
    });
    json!({
        "name": filter["name"],
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.common.matching.v3.ExtensionWithMatcher",
            "extension_config": filter,
            "xds_matcher": {"matcher_list": {"matchers": [{
                "predicate": {"not_matcher": {"single_predicate": {
                    "input": path,
                    "value_match": {"prefix": prefix},
                }}},
                "on_match": {"action": skip},
            }]}},
        },
    })
}

/// `127.0.0.1:port`.
fn socket(port: u16) -> Value {
    json!({"socket_address": {"address": "127.0.0.1", "port_value": port}})
}

/// The bootstrap of the tests: the module configured by `plugin_config` in
/// front of `upstream`, ports chosen by Envoy.
pub fn bootstrap(plugin_config: &str, upstream: SocketAddr, module: &Path) -> Value {
    let filter = Filter::Module {
        config: plugin_config.to_string(),
        module: module.to_path_buf(),
    };
    Bootstrap::new(filter, Target::Upstream(upstream)).to_json()
}

/// The `upstream` cluster: the one endpoint `upstream`.
fn cluster(upstream: SocketAddr) -> Value {
    json!({
        "name": "upstream",
        "type": "STATIC",
        "connect_timeout": "2s",
        "load_assignment": {
            "cluster_name": "upstream",
            "endpoints": [{"lb_endpoints": [{"endpoint": {"address": {"socket_address": {
                "address": upstream.ip().to_string(),
                "port_value": upstream.port(),
            }}}}]}],
        },
    })
}

/// A running Envoy; killed on drop.
pub struct Envoy {
    child: Child,
    admin: SocketAddr,
    listener: SocketAddr,
    log_path: PathBuf,
    _dir: TempDir,
}

/// Why Envoy did not come up: its exit status (if it exited) and its log.
#[derive(Debug)]
pub struct StartFailure {
    /// `None` when it was still running at the timeout (it has been killed).
    pub status: Option<ExitStatus>,
    /// Envoy's log and stderr.
    pub log: String,
}

/// `Envoy did not start (exit status: 1):` and the log, for a test's panic.
impl std::fmt::Display for StartFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Envoy did not start ({:?}):\n{}", self.status, self.log)
    }
}

impl Envoy {
    /// Starts Envoy with the module configured by `plugin_config` (the plugin
    /// JSON text) in front of `upstream`, and waits until it is ready.
    /// `extra_args` go on the command line (such as
    /// `["--component-log-level", "wasm:debug"]`).
    ///
    /// # Errors
    /// Envoy exited (a refused config does that) or was not ready in time.
    pub fn start(
        plugin_config: &str,
        upstream: SocketAddr,
        extra_args: &[&str],
    ) -> Result<Envoy, StartFailure> {
        let bootstrap = bootstrap(plugin_config, upstream, &module_path());
        Envoy::start_with(&bootstrap, extra_args)
    }

    /// Starts Envoy with `bootstrap`, whose HTTP listener must be named
    /// `http`, and waits until it is ready.
    ///
    /// # Errors
    /// Envoy exited or was not ready in time.
    pub fn start_with(bootstrap: &Value, extra_args: &[&str]) -> Result<Envoy, StartFailure> {
        let dir = TempDir::new("e2e-envoy");
        let config_path = dir.path().join("envoy.json");
        let admin_path = dir.path().join("admin-address");
        let log_path = dir.path().join("envoy.log");
        let stderr_path = dir.path().join("stderr.log");
        write(&config_path, bootstrap.to_string().as_bytes());
        let stderr = std::fs::File::create(&stderr_path).expect("create stderr.log");
        let mut child = Command::new(envoy_bin())
            .arg("-c")
            .arg(&config_path)
            .args(["--concurrency", "1", "--disable-hot-restart"])
            .args(["--log-level", "info"])
            .arg("--log-path")
            .arg(&log_path)
            // The default flushes the log every 10 s; tests read it at once.
            .args(["--file-flush-interval-msec", "20"])
            .arg("--admin-address-path")
            .arg(&admin_path)
            .args(extra_args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", envoy_bin().display()));
        let read_log = || read_lossy(&log_path) + &read_lossy(&stderr_path);
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(StartFailure {
                    status: Some(status),
                    log: read_log(),
                });
            }
            if let Some(admin) = ready_admin(&admin_path) {
                if let Some(listener) = listener_address(admin) {
                    return Ok(Envoy {
                        child,
                        admin,
                        listener,
                        log_path,
                        _dir: dir,
                    });
                }
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(StartFailure {
                    status: None,
                    log: read_log(),
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The HTTP listener.
    pub fn listener(&self) -> SocketAddr {
        self.listener
    }

    /// The admin endpoint.
    pub fn admin(&self) -> SocketAddr {
        self.admin
    }

    /// Envoy's log so far.
    pub fn log(&self) -> String {
        read_lossy(&self.log_path)
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// The process id, to read its memory from `/proc`.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The wasm stats, which change when a VM is replaced or reloaded. (A
    /// trap under the default fail-closed policy changes none of them: it
    /// shows as 503s and in the log, see [`trap_lines`].)
    pub fn vm_stats(&self) -> BTreeMap<String, u64> {
        self.stats()
            .into_iter()
            .filter(|(name, _)| name.starts_with("wasm.") && !name.starts_with("wasm.remote_load"))
            .collect()
    }

    /// Every stat with an integer value (counters and gauges), by name.
    ///
    /// # Panics
    /// When the admin endpoint does not answer.
    pub fn stats(&self) -> BTreeMap<String, u64> {
        let response = admin_get(self.admin, "/stats").expect("admin /stats");
        String::from_utf8_lossy(&response.body)
            .lines()
            .filter_map(|line| {
                let (name, value) = line.split_once(": ")?;
                Some((name.to_string(), value.trim().parse().ok()?))
            })
            .collect()
    }

    /// The module's decision counters by `(policy, mode, outcome)`. Each is
    /// named `policy=.=<policy>;.;mode=.=<mode>;.;outcome=.=<outcome>;.;cors_requests_total`
    /// (in Envoy's `wasmcustom` namespace): tag extractors turn those parts
    /// into Prometheus labels.
    pub fn decision_counters(&self) -> BTreeMap<(String, String, String), u64> {
        self.stats()
            .into_iter()
            .filter_map(|(name, value)| Some((decision_labels(&name)?, value)))
            .collect()
    }

    /// The module's decision counters summed over policies and modes:
    /// outcome name to count.
    pub fn outcome_counters(&self) -> BTreeMap<String, u64> {
        let mut sums = BTreeMap::new();
        for ((_, _, outcome), value) in self.decision_counters() {
            *sums.entry(outcome).or_insert(0) += value;
        }
        sums
    }
}

/// `(policy, mode, outcome)` from a decision counter's stat name.
fn decision_labels(name: &str) -> Option<(String, String, String)> {
    let tags = name
        .strip_prefix("wasmcustom.")?
        .strip_suffix("cors_requests_total")?;
    let mut values = tags
        .split(";.;")
        .filter(|part| !part.is_empty())
        .map(|part| part.split_once("=.="));
    let mut take = |tag: &str| match values.next()? {
        Some((name, value)) if name == tag => Some(value.to_string()),
        _ => None,
    };
    Some((take("policy")?, take("mode")?, take("outcome")?))
}

impl Drop for Envoy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `envoy --mode validate` on a bootstrap with the module configured by
/// `plugin_config`. Validation instantiates the VM and runs `on_configure`,
/// so a refused config fails it. Returns whether it passed, and the log.
pub fn validate(plugin_config: &str) -> (bool, String) {
    let dir = TempDir::new("e2e-validate");
    let config_path = dir.path().join("envoy.json");
    let log_path = dir.path().join("envoy.log");
    // Validation never connects to the upstream.
    let upstream = SocketAddr::from(([127, 0, 0, 1], 9));
    write(
        &config_path,
        bootstrap(plugin_config, upstream, &module_path())
            .to_string()
            .as_bytes(),
    );
    let output = Command::new(envoy_bin())
        .args(["--mode", "validate", "--disable-hot-restart"])
        .arg("-c")
        .arg(&config_path)
        .arg("--log-path")
        .arg(&log_path)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", envoy_bin().display()));
    let log = read_lossy(&log_path)
        + &String::from_utf8_lossy(&output.stdout)
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), log)
}

/// Log lines that betray a trap or a panic in the module.
pub fn trap_lines(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|line| {
            line.contains("panicked")
                || line.contains("Uncaught")
                || line.contains("wasm_fail")
                || line.contains("Function: proxy_on")
        })
        .collect()
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

fn read_lossy(path: &Path) -> String {
    std::fs::read(path)
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default()
}

fn admin_get(admin: SocketAddr, path: &str) -> std::io::Result<client::Response> {
    client::Request::new("GET", path)
        .header("Host", "admin")
        .send(admin)
}

/// The admin address once Envoy has written it and `/ready` answers 200.
fn ready_admin(admin_path: &Path) -> Option<SocketAddr> {
    let admin: SocketAddr = std::fs::read_to_string(admin_path)
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let ready = admin_get(admin, "/ready").ok()?;
    (ready.status == 200).then_some(admin)
}

/// The address the HTTP listener is bound to, from `/listeners?format=json`.
fn listener_address(admin: SocketAddr) -> Option<SocketAddr> {
    let response = admin_get(admin, "/listeners?format=json").ok()?;
    let listeners: Value = serde_json::from_slice(&response.body).ok()?;
    let socket = listeners
        .get("listener_statuses")?
        .as_array()?
        .iter()
        .find(|l| l.get("name").and_then(Value::as_str) == Some("http"))?
        .get("local_address")?
        .get("socket_address")?;
    let ip = socket.get("address")?.as_str()?.parse().ok()?;
    let port = u16::try_from(socket.get("port_value")?.as_u64()?).ok()?;
    Some(SocketAddr::new(ip, port))
}
