//! `serve envoy|worker PLUGIN_JSON_FILE`: the recording upstream plus Envoy
//! (or workerd) running the filter with that plugin config, started through
//! the same harness as the Rust end-to-end tests, for tests written in other
//! languages (the browser tests in `tests/browser/`).
//!
//! Protocol, one JSON document per line:
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

use e2e::envoy::Envoy;
use e2e::upstream::{Recorded, Upstream};
use e2e::workerd::{CorsConfig, Workerd};
use serde_json::{json, Value};
use std::io::{BufRead, Write};
use std::process::ExitCode;

const USAGE: &str = "usage: serve envoy|worker PLUGIN_JSON_FILE";

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
            _ => Err(USAGE.to_string()),
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
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [target, config_path] = args.as_slice() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let config = match std::fs::read_to_string(config_path) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("serve: cannot read {config_path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let upstream = Upstream::start();
    let proxy = match Proxy::start(target, &config, &upstream) {
        Ok(proxy) => proxy,
        Err(why) => {
            eprintln!("serve: {why}");
            return ExitCode::FAILURE;
        }
    };
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
    ExitCode::SUCCESS
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
