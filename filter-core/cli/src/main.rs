//! `cors-filter`: the operator's tools for the CORS filter's plugin JSON.
//!
//! - `check` validates a config exactly as the filter does, shows its
//!   policies as the engine reads them, and warns about unwise settings;
//! - `explain` runs one request through the engine and says why it got the
//!   answer it got;
//! - `import` converts Envoy, Istio or Kong CORS settings into a policy.
//!
//! Exit codes: 0 done, 1 config refused (or nothing could be imported, or a
//! file could not be read), 2 usage error, 3 done but with warnings or
//! findings and `--strict` given.

mod args;
mod check;
mod closest;
mod coverage;
mod explain;
mod import;
mod origin;
mod request;
mod view;

use serde::Serialize;
use std::io::{Read, Write};
use std::process::ExitCode;

const USAGE: &str = "\
usage:
  cors-filter check [--json] [--strict] [--production] CONFIG
  cors-filter explain [--json] CONFIG --method METHOD --url URL [--header 'Name: value']...
  cors-filter explain [--json] [--scheme http|https] CONFIG -     (raw HTTP/1.1 request on stdin)
  cors-filter import [--json] [--strict] [--accept-widening] [--name NAME] envoy|istio|kong|gateway-api FILE

CONFIG and FILE may be - for standard input (not both with explain -).
exit codes: 0 done, 1 refused or unreadable, 2 usage error, 3 warnings or findings with --strict
";

/// How a run ended; the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    Ok = 0,
    /// The config is refused, a file cannot be read, or nothing could be imported.
    Refused = 1,
    Usage = 2,
    /// `--strict`, and there were warnings (check) or findings (import).
    Warnings = 3,
}

/// Where results go: stdout for the result, stderr for failures. Write
/// errors (a closed pipe) are ignored rather than panicking.
pub struct Output {
    pub json: bool,
}

impl Output {
    pub fn out(&mut self, text: &str) {
        let _ = std::io::stdout().lock().write_all(text.as_bytes());
    }

    pub fn err(&mut self, text: &str) {
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }

    /// Pretty JSON, one document, on stdout.
    pub fn json_out<T: Serialize>(&mut self, value: &T) {
        match serde_json::to_string_pretty(value) {
            Ok(json) => self.out(&format!("{json}\n")),
            Err(e) => self.err(&format!("cannot write JSON: {e}\n")),
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    ExitCode::from(run(&args) as u8)
}

fn run(args: &[String]) -> ExitStatus {
    let (command, rest) = match args.split_first() {
        Some((command, rest)) => (command.as_str(), rest),
        None => return usage("no command given"),
    };
    if rest.iter().any(|a| a == "--help" || a == "-h")
        || matches!(command, "help" | "--help" | "-h")
    {
        Output { json: false }.out(USAGE);
        return ExitStatus::Ok;
    }
    match command {
        "--version" | "-V" => {
            Output { json: false }.out(&format!("cors-filter {}\n", env!("CARGO_PKG_VERSION")));
            ExitStatus::Ok
        }
        "check" => check_command(rest),
        "explain" => explain_command(rest),
        "import" => import_command(rest),
        other => usage(&format!("unknown command \"{other}\"")),
    }
}

fn usage(message: &str) -> ExitStatus {
    Output { json: false }.err(&format!("cors-filter: {message}\n{USAGE}"));
    ExitStatus::Usage
}

/// The bytes of a file, or of standard input for `-`.
fn read_input(path: &str) -> Result<Vec<u8>, String> {
    if path == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|e| format!("cannot read standard input: {e}"))?;
        return Ok(bytes);
    }
    std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))
}

fn unreadable(message: &str) -> ExitStatus {
    Output { json: false }.err(&format!("cors-filter: {message}\n"));
    ExitStatus::Refused
}

fn check_command(args: &[String]) -> ExitStatus {
    let args = match args::parse(args, &["--json", "--strict", "--production"], &[]) {
        Ok(args) => args,
        Err(message) => return usage(&message),
    };
    let [path] = args.positional.as_slice() else {
        return usage("check takes one CONFIG");
    };
    let json = match read_input(path) {
        Ok(json) => json,
        Err(message) => return unreadable(&message),
    };
    let options = check::Options {
        production: args.has("--production"),
        strict: args.has("--strict"),
    };
    check::run(
        &json,
        &options,
        &mut Output {
            json: args.has("--json"),
        },
    )
}

fn explain_command(args: &[String]) -> ExitStatus {
    let args = match args::parse(
        args,
        &["--json"],
        &["--method", "--url", "--header", "--scheme"],
    ) {
        Ok(args) => args,
        Err(message) => return usage(&message),
    };
    let (config_path, raw) = match args.positional.as_slice() {
        [config] => (config, false),
        [config, dash] if dash == "-" => (config, true),
        _ => return usage("explain takes CONFIG, then - for a raw request on standard input"),
    };
    if raw && config_path == "-" {
        return usage("the config and the request cannot both come from standard input");
    }
    let request = if raw {
        if args.value("--method").is_some()
            || args.value("--url").is_some()
            || !args.values("--header").is_empty()
        {
            return usage(
                "give the request either on standard input or with --method, --url and --header",
            );
        }
        let scheme = args.value("--scheme").unwrap_or("https");
        if !matches!(scheme, "http" | "https") {
            return usage("--scheme is http or https");
        }
        match read_input("-") {
            Ok(bytes) => request::HttpRequest::from_raw(&bytes, scheme),
            Err(message) => return unreadable(&message),
        }
    } else {
        let (Some(method), Some(url)) = (args.value("--method"), args.value("--url")) else {
            return usage(
                "explain needs --method and --url (or - and a raw request on standard input)",
            );
        };
        if args.value("--scheme").is_some() {
            return usage("--scheme is for a raw request; the scheme of --url is used");
        }
        request::HttpRequest::from_flags(method, url, &args.values("--header"))
    };
    let request = match request {
        Ok(request) => request,
        Err(message) => return usage(&message),
    };
    let json = match read_input(config_path) {
        Ok(json) => json,
        Err(message) => return unreadable(&message),
    };
    explain::run(
        &json,
        &request,
        &mut Output {
            json: args.has("--json"),
        },
    )
}

/// `import --json`: the config (or `null` and the error), and the findings.
#[derive(Serialize)]
struct ImportReport<'a> {
    config: Option<&'a import::PluginConfig>,
    error: Option<&'a str>,
    findings: &'a [import::Finding],
}

fn import_command(args: &[String]) -> ExitStatus {
    let args = match args::parse(
        args,
        &["--json", "--strict", "--accept-widening"],
        &["--name"],
    ) {
        Ok(args) => args,
        Err(message) => return usage(&message),
    };
    let [kind, path] = args.positional.as_slice() else {
        return usage("import takes envoy, istio, kong or gateway-api, then FILE");
    };
    let Some(source) = import::Source::parse(kind) else {
        return usage(&format!(
            "cannot import \"{kind}\": choose envoy, istio, kong or gateway-api"
        ));
    };
    let text = match read_input(path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(message) => return unreadable(&message),
    };
    let options = import::Options {
        name: args.value("--name"),
        accept_widening: args.has("--accept-widening"),
    };
    let mut output = Output {
        json: args.has("--json"),
    };
    match import::import(source, &text, &options) {
        Ok(imported) => {
            if output.json {
                output.json_out(&ImportReport {
                    config: Some(&imported.config),
                    error: None,
                    findings: &imported.findings,
                });
            } else {
                output.json_out(&imported.config);
                output.err(&import::render_findings(&imported.findings));
            }
            if args.has("--strict") && !imported.findings.is_empty() {
                ExitStatus::Warnings
            } else {
                ExitStatus::Ok
            }
        }
        Err(failure) => {
            if output.json {
                output.json_out(&ImportReport {
                    config: None,
                    error: Some(&failure.message),
                    findings: &failure.findings,
                });
            } else {
                output.err(&import::render_findings(&failure.findings));
                output.err(&format!("cors-filter: {}\n", failure.message));
            }
            ExitStatus::Refused
        }
    }
}
