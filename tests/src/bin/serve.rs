//! The harness for scripts and tests in other languages.
//!
//! `serve envoy|worker PLUGIN_JSON_FILE`: the recording upstream plus Envoy
//! (or workerd) running the filter with that plugin config, started through
//! the same harness as the Rust end-to-end tests, for the browser tests in
//! `tests/browser/`. Protocol, one JSON document per line:
//! - once ready, it prints
//!   `{"target":"envoy","proxy":P,"admin":A,"upstream":U}`: the proxy's HTTP
//!   port, Envoy's admin port (`null` for the Worker; read the filter's
//!   counters at `http://127.0.0.1:A/stats`) and the upstream's port;
//! - for each line `requests` read from stdin, it prints the requests the
//!   upstream has received so far:
//!   `[{"method":"GET","path":"/x","headers":[["name","value"],...]},...]`
//!   (bytes that are not UTF-8 are replaced);
//! - for each line `denials`, the denials the Worker has logged so far,
//!   `[{"policy":"api","outcome":"preflight_denied_origin","reason":"..."},...]`
//!   (`null` for Envoy, whose counters are in `/stats`);
//! - when stdin closes it stops the proxy and the upstream and exits 0.
//!
//! A start that fails (missing artifact, refused config) prints the proxy's
//! log on stderr and exits 1.
//!
//! `serve envoy-config ...` and `serve workerd-config ...` print a config
//! from the harness's one generator of each ([`e2e::envoy::Bootstrap`],
//! [`e2e::workerd::Config`]), for the scripts that run Envoy or workerd
//! themselves (demo, soak, benchmarks); `serve hostile-config` prints the
//! policy the hostile traffic and floods are aimed at. `serve help` lists
//! their options.

use clap::{Parser, Subcommand};
use e2e::envoy::{self, Bootstrap, Envoy, Filter, Target};
use e2e::upstream::{Recorded, Upstream};
use e2e::workerd::{self, Binding, CorsConfig, Module, Outbound, Workerd};
use serde_json::{json, Value};
use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(about = "The end-to-end harness for scripts and tests in other languages")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Envoy running the module with PLUGIN_JSON_FILE, in front of the
    /// recording upstream (the line protocol above).
    Envoy {
        /// The plugin JSON.
        plugin_config: PathBuf,
    },
    /// workerd running the Worker with PLUGIN_JSON_FILE, in front of the
    /// recording upstream (the line protocol above).
    Worker {
        /// The plugin JSON.
        plugin_config: PathBuf,
    },
    /// Prints an Envoy bootstrap (JSON): the module, the deploy kit's
    /// filter, Envoy's native CORS filter or no filter, in front of an
    /// upstream or a direct response.
    EnvoyConfig(EnvoyConfig),
    /// Prints a workerd config (Cap'n Proto text) for a Worker of files
    /// beside it.
    WorkerdConfig(WorkerdConfig),
    /// Prints the plugin JSON the hostile traffic and floods are aimed at.
    HostileConfig,
}

#[derive(clap::Args)]
struct EnvoyConfig {
    /// The module with this plugin JSON.
    #[arg(long, value_name = "FILE", group = "filter")]
    plugin_config: Option<PathBuf>,
    /// The module's filter entry from this deploy-kit Envoy config (YAML),
    /// with its connection manager's path settings.
    #[arg(long, value_name = "FILE", group = "filter")]
    deploy_kit: Option<PathBuf>,
    /// Envoy's native CORS filter with this CorsPolicy (JSON) on the routes
    /// under --native-cors-prefix.
    #[arg(long, value_name = "FILE", group = "filter")]
    native_cors: Option<PathBuf>,
    /// The routes the native CORS policy applies to.
    #[arg(long, default_value = "/api/")]
    native_cors_prefix: String,
    /// The module (default: target/envoy-filter.wasm).
    #[arg(long)]
    module: Option<PathBuf>,
    /// Route every request to this upstream.
    #[arg(long, group = "target")]
    upstream: Option<SocketAddr>,
    /// Answer every request with this body, status 200, instead.
    #[arg(long, value_name = "BODY", group = "target")]
    direct_response: Option<String>,
    /// A header line NAME=VALUE added to every direct response.
    #[arg(long, value_name = "NAME=VALUE", value_parser = name_value)]
    response_header: Vec<(String, String)>,
    /// The HTTP listener's port on 127.0.0.1 (0: Envoy picks).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// The admin port on 127.0.0.1 (0: Envoy picks).
    #[arg(long, default_value_t = 0)]
    admin_port: u16,
    /// The connection manager's stat prefix.
    #[arg(long, default_value = "ingress")]
    stat_prefix: String,
    /// A path prefix whose route turns the filter off (per-route
    /// `FilterConfig` `disabled: true`), as the deploy kit does for /healthz.
    #[arg(long, value_name = "PREFIX")]
    filter_off: Vec<String>,
    /// Skip the filter for every path outside this prefix (the filter
    /// wrapped in an ExtensionWithMatcher).
    #[arg(long, value_name = "PREFIX")]
    filter_only_under: Option<String>,
}

#[derive(clap::Args)]
struct WorkerdConfig {
    /// An ES module file (the first is the entry point).
    #[arg(long, value_name = "FILE", required = true)]
    es_module: Vec<String>,
    /// A compiled Wasm module file, imported by its file name.
    #[arg(long, value_name = "FILE")]
    wasm_module: Vec<String>,
    /// A text binding NAME=VALUE.
    #[arg(long, value_name = "NAME=VALUE", value_parser = name_value)]
    text_binding: Vec<(String, String)>,
    /// A text binding NAME=FILE holding the file.
    #[arg(long, value_name = "NAME=FILE", value_parser = name_value)]
    text_file_binding: Vec<(String, String)>,
    /// Fetches go to a second Worker, this ES module file, instead of the
    /// network.
    #[arg(long, value_name = "FILE")]
    outbound_worker: Option<String>,
}

fn name_value(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .ok_or_else(|| format!("{text:?} is not NAME=VALUE"))
}

/// The proxy running the filter; stopped on drop.
enum Proxy {
    Envoy(Envoy),
    Worker(Workerd),
}

impl Proxy {
    /// Starts `target` with `config` in front of `upstream`, or says why not.
    fn start(target: &str, config: &str, upstream: &Upstream) -> Result<Proxy, String> {
        match target {
            "envoy" => Envoy::start(config, upstream.addr(), &[])
                .map(Proxy::Envoy)
                .map_err(|f| {
                    format!(
                        "Envoy did not start (exit status {:?}); its log:\n{}",
                        f.status, f.log
                    )
                }),
            "worker" => {
                let origin_url = format!("http://{}", upstream.addr());
                Workerd::start(CorsConfig::Text(config), Some(&origin_url))
                    .map(Proxy::Worker)
                    .map_err(|f| {
                        format!(
                            "workerd did not start (exit status {:?}); its output:\n{}",
                            f.status, f.log
                        )
                    })
            }
            _ => unreachable!("clap knows the targets"),
        }
    }

    fn port(&self) -> u16 {
        match self {
            Proxy::Envoy(envoy) => envoy.listener().port(),
            Proxy::Worker(workerd) => workerd.addr().port(),
        }
    }

    fn admin_port(&self) -> Option<u16> {
        match self {
            Proxy::Envoy(envoy) => Some(envoy.admin().port()),
            Proxy::Worker(_) => None,
        }
    }

    fn denials(&self) -> Value {
        match self {
            Proxy::Envoy(_) => Value::Null,
            Proxy::Worker(workerd) => workerd
                .denials()
                .into_iter()
                .map(|d| json!({"policy": d.policy, "outcome": d.outcome, "reason": d.reason}))
                .collect(),
        }
    }
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Envoy { plugin_config } => serve("envoy", &plugin_config),
        Command::Worker { plugin_config } => serve("worker", &plugin_config),
        Command::EnvoyConfig(options) => envoy_config(options).map(|value| println!("{value:#}")),
        Command::WorkerdConfig(options) => {
            print!("{}", workerd_config(options).to_capnp());
            Ok(())
        }
        Command::HostileConfig => {
            println!("{}", e2e::hostile::CONFIG);
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("serve: {why}");
            ExitCode::FAILURE
        }
    }
}

fn read(path: &PathBuf) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Runs `target` for the line protocol until stdin closes.
fn serve(target: &str, config_path: &PathBuf) -> Result<(), String> {
    let config = read(config_path)?;
    let upstream = Upstream::start();
    let proxy = Proxy::start(target, &config, &upstream)?;
    answer(&json!({
        "target": target,
        "proxy": proxy.port(),
        "admin": proxy.admin_port(),
        "upstream": upstream.addr().port(),
    }));
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        match line.trim() {
            "requests" => answer(&upstream.requests().iter().map(recorded_json).collect()),
            "denials" => answer(&proxy.denials()),
            other => eprintln!("serve: unknown command {other:?} (known: requests, denials)"),
        }
    }
    Ok(())
}

fn envoy_config(options: EnvoyConfig) -> Result<Value, String> {
    let module = options.module.unwrap_or_else(envoy::module_path);
    let mut connection_manager = serde_json::Map::new();
    let mut stats_config = None;
    let filter = if let Some(path) = &options.plugin_config {
        Filter::Module {
            config: read(path)?,
            module,
        }
    } else if let Some(path) = &options.deploy_kit {
        let kit = Filter::from_deploy_kit(&read(path)?, &module)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        connection_manager = kit.connection_manager;
        stats_config = kit.stats_config;
        kit.filter
    } else if let Some(path) = &options.native_cors {
        let policy =
            serde_json::from_str(&read(path)?).map_err(|e| format!("{}: {e}", path.display()))?;
        Filter::NativeCors {
            policy,
            prefix: options.native_cors_prefix,
        }
    } else {
        Filter::None
    };
    let target = match (options.upstream, options.direct_response) {
        (Some(upstream), None) => Target::Upstream(upstream),
        (None, Some(body)) => Target::Direct {
            status: 200,
            body,
            headers: options.response_header,
        },
        _ => return Err("give --upstream or --direct-response".into()),
    };
    let mut bootstrap = Bootstrap::new(filter, target);
    bootstrap.port = options.port;
    bootstrap.admin_port = options.admin_port;
    bootstrap.stat_prefix = options.stat_prefix;
    bootstrap.connection_manager = connection_manager;
    bootstrap.stats_config = stats_config;
    bootstrap.filter_off = options.filter_off;
    bootstrap.filter_only_under = options.filter_only_under;
    Ok(bootstrap.to_json())
}

fn workerd_config(options: WorkerdConfig) -> workerd::Config {
    let modules = options.es_module.into_iter().map(Module::Es);
    let wasm = options.wasm_module.into_iter().map(Module::Wasm);
    let texts = options
        .text_binding
        .into_iter()
        .map(|(name, value)| Binding::Text(name, value));
    let files = options
        .text_file_binding
        .into_iter()
        .map(|(name, file)| Binding::TextFile(name, file));
    workerd::Config {
        modules: modules.chain(wasm).collect(),
        bindings: texts.chain(files).collect(),
        outbound: options
            .outbound_worker
            .map_or(Outbound::Network, Outbound::Worker),
        internal_modules: Vec::new(),
    }
}

/// Prints one JSON line and flushes it: the reader waits for whole lines.
fn answer(value: &Value) {
    let mut stdout = std::io::stdout().lock();
    // A reader that has gone away will close stdin too, which ends the loop.
    let _ = writeln!(stdout, "{value}").and_then(|()| stdout.flush());
}

fn recorded_json(request: &Recorded) -> Value {
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    json!({
        "method": text(&request.method),
        "path": text(&request.path),
        "headers": request
            .headers
            .iter()
            .map(|(name, value)| [text(name), text(value)])
            .collect::<Vec<_>>(),
    })
}
