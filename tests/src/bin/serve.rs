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
//! - when stdin closes it stops the proxy and the upstream and exits 0.
//!
//! A start that fails (missing artifact, refused config) prints the proxy's
//! log on stderr and exits 1.

use e2e::envoy::Envoy;
use e2e::upstream::{Recorded, Upstream};
use serde_json::{json, Value};
use std::io::{BufRead, Write};
use std::process::ExitCode;

const USAGE: &str = "usage: serve envoy|worker PLUGIN_JSON_FILE";

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
    let proxy = match target.as_str() {
        "envoy" => match Envoy::start(&config, upstream.addr(), &[]) {
            Ok(envoy) => envoy,
            Err(failure) => {
                eprintln!(
                    "serve: Envoy did not start (exit status {:?}); its log:\n{}",
                    failure.status, failure.log
                );
                return ExitCode::FAILURE;
            }
        },
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let ready = json!({
        "target": target,
        "proxy": proxy.listener().port(),
        "admin": proxy.admin().port(),
        "upstream": upstream.addr().port(),
    });
    answer(&ready);
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        match line.trim() {
            "requests" => answer(&upstream.requests().iter().map(recorded_json).collect()),
            other => eprintln!("serve: unknown command {other:?} (known: requests)"),
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
