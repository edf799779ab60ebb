//! `cors-filter`: the operator's tools for the CORS filter's plugin config.
//!
//! - `check` validates a config exactly as the filter does, shows its
//!   policies as the engine reads them, and warns about unwise settings;
//! - `explain` runs one request through the engine and says why it got the
//!   answer it got;
//! - `import` converts Envoy, Istio, Kong or Gateway API CORS settings into
//!   policies, one per route, scope included.

mod check;
mod closest;
mod coverage;
mod explain;
mod import;
mod request;
mod source;

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::Serialize;
use std::io::{Read, Write};
use std::process::ExitCode;
use std::sync::LazyLock;

/// The crate's version and the date of the Public Suffix List snapshot the
/// engine carries (it decides which wildcards are refused with credentials).
static VERSION: LazyLock<String> = LazyLock::new(|| {
    let date = filter_core::PSL_SNAPSHOT_DATE;
    format!(
        "{} (public suffix list of {date})",
        env!("CARGO_PKG_VERSION")
    )
});

#[derive(Parser)]
#[command(
    name = "cors-filter",
    version = VERSION.as_str(),
    about = "Check, explain and import configs of the CORS filter for Envoy and Cloudflare Workers.",
    after_help = EXIT_CODES
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

const EXIT_CODES: &str = "\
Exit codes: 0 done; 1 config refused, file unreadable or nothing imported;
2 usage error; 3 warnings or findings with --strict; 4 explain's outcome is not --expect.";

#[derive(Subcommand)]
enum Command {
    /// Validate a config as the filter does, show its policies and warn about unwise settings.
    #[command(after_help = CHECK_HELP)]
    Check(CheckArgs),
    /// Run one request through the engine and say what the filter does with it, and why.
    #[command(after_help = EXPLAIN_HELP)]
    Explain(ExplainArgs),
    /// Convert Envoy, Istio, Kong or Gateway API CORS settings into policies, one per route.
    #[command(
        after_help = "Exit codes: 0 imported; 1 nothing could be imported, or the result would let through more than the source and --accept-widening is not given; 2 usage error; 3 findings with --strict."
    )]
    Import(ImportArgs),
    /// Print the JSON Schema of the plugin config, generated from the engine's model.
    #[command(
        after_help = "deploy/schema/plugin-config.schema.json is this output:\n  cors-filter schema > deploy/schema/plugin-config.schema.json"
    )]
    Schema,
}

const CHECK_HELP: &str = "\
CONFIG is the plugin JSON, or a file holding it: an Envoy config (the Wasm
filter's configuration), an Istio WasmPlugin (spec.pluginConfig), or a
wrangler.toml (CORS_CONFIG of [vars] and of each [env.NAME.vars]; the file
name must end in .toml). Every config found is checked, and named.

Exit codes: 0 accepted; 1 refused or unreadable; 2 usage error;
3 accepted with warnings and --strict given.";

const EXPLAIN_HELP: &str = "\
CONFIG is read as for `check`, and must hold one config (see --select).

Exit codes: 0 explained (and, with --expect, the outcome is the one expected);
1 config refused or unreadable; 2 usage error; 4 the outcome is not --expect.";

/// The input shared by `check` and `explain`.
#[derive(Args)]
struct ConfigArgs {
    /// The config file, or - for standard input.
    #[arg(value_name = "CONFIG")]
    path: String,
    /// Only the config of this Envoy filter name, WasmPlugin name or wrangler environment.
    #[arg(long, value_name = "NAME")]
    select: Option<String>,
}

#[derive(Args)]
struct CheckArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// Write one JSON report (several in an array) instead of text.
    #[arg(long)]
    json: bool,
    /// Exit 3 when there are warnings.
    #[arg(long)]
    strict: bool,
    /// Also warn about settings meant for development only (loopback origins).
    #[arg(long)]
    production: bool,
}

#[derive(Args)]
struct ExplainArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// `-`: read a raw HTTP/1.1 request (request line, headers) from standard input.
    #[arg(value_name = "-", value_parser = ["-"])]
    raw: Option<String>,
    /// The request method.
    #[arg(long, conflicts_with = "raw", requires = "url")]
    method: Option<String>,
    /// The absolute request URL, scheme://host[:port]/path.
    #[arg(long, conflicts_with = "raw", requires = "method")]
    url: Option<String>,
    /// A request header, 'Name: value'; repeat for more.
    #[arg(long, conflicts_with = "raw")]
    header: Vec<String>,
    /// The scheme of a raw request given in origin form (GET /path).
    #[arg(long, requires = "raw", default_value = "https", value_parser = ["http", "https"])]
    scheme: String,
    /// Exit 4 unless the outcome is this. allowed: preflight_allowed or
    /// actual_allowed; denied: preflight_denied_*, actual_denied or
    /// actual_rejected. A request without Origin, same-origin or outside
    /// every policy is neither.
    #[arg(long)]
    expect: Option<Expect>,
    /// Write the explanation as JSON.
    #[arg(long)]
    json: bool,
}

/// What `explain --expect` asserts.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Expect {
    Allowed,
    Denied,
}

#[derive(Args)]
struct ImportArgs {
    /// What FILE holds.
    #[arg(value_name = "SOURCE")]
    kind: import::Source,
    /// The file to import, or - for standard input.
    #[arg(value_name = "FILE")]
    path: String,
    /// The name of the policies made (numbered from the second on).
    #[arg(long)]
    name: Option<String>,
    /// Write the config even where it lets through more requests or origins
    /// than the source did (the "widening" findings).
    #[arg(long)]
    accept_widening: bool,
    /// Write the config and the findings as one JSON document.
    #[arg(long)]
    json: bool,
    /// Exit 3 when there are findings.
    #[arg(long)]
    strict: bool,
}

/// How a run ended; the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    Ok = 0,
    /// The config is refused, a file cannot be read, or nothing could be imported.
    Refused = 1,
    Usage = 2,
    /// `--strict`, and there were warnings (check) or findings (import).
    Warnings = 3,
    /// `explain --expect`, and the outcome is another.
    Unexpected = 4,
}

/// Writes a result to stdout. A write error (a closed pipe) is ignored
/// rather than panicking, here and in [`err`].
pub fn out(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// Writes a failure to stderr.
pub fn err(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// Pretty JSON, one document, on stdout.
pub fn json_out<T: Serialize>(value: &T) {
    match serde_json::to_string_pretty(value) {
        Ok(json) => out(&format!("{json}\n")),
        Err(e) => err(&format!("cannot write JSON: {e}\n")),
    }
}

/// Why a run stopped before its work was done: the exit status, and the
/// message `main` writes to stderr.
pub struct Failure(ExitStatus, String);

impl Failure {
    pub fn refused(message: String) -> Failure {
        Failure(ExitStatus::Refused, message)
    }

    pub fn usage(message: String) -> Failure {
        Failure(ExitStatus::Usage, message)
    }
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Check(args) => check::run(&args),
        Command::Explain(args) => explain::run(&args),
        Command::Import(args) => import::run(&args),
        Command::Schema => {
            json_out(&schema());
            Ok(ExitStatus::Ok)
        }
    };
    let status = result.unwrap_or_else(|Failure(status, message)| {
        err(&format!("cors-filter: {message}\n"));
        status
    });
    ExitCode::from(status as u8)
}

/// The JSON Schema of `PluginConfig`, with the id configs link to.
fn schema() -> schemars::Schema {
    let mut schema = schemars::schema_for!(filter_core::PluginConfig);
    schema.insert("$id".into(), "urn:cors-filter:plugin-config:v1".into());
    schema.insert(
        "description".into(),
        "The plugin config of the CORS filter (Envoy module, Cloudflare Worker, cors-filter). \
         This schema checks shapes; the filter checks more: run `cors-filter check`."
            .into(),
    );
    schema
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

/// The configs CONFIG holds, after `--select`.
fn read_configs(args: &ConfigArgs) -> Result<Vec<source::Found>, Failure> {
    let bytes = read_input(&args.path).map_err(Failure::refused)?;
    let mut found = source::configs(&args.path, &bytes).map_err(Failure::refused)?;
    if let Some(name) = &args.select {
        let names = names(&found);
        found.retain(|f| &f.name == name);
        if found.is_empty() {
            let path = &args.path;
            let message = format!("no config named \"{name}\" in {path}: it has {names}");
            return Err(Failure::refused(message));
        }
    }
    Ok(found)
}

/// The names of the configs found, quoted, for a message.
fn names(found: &[source::Found]) -> String {
    let names: Vec<String> = found.iter().map(|f| format!("\"{}\"", f.name)).collect();
    names.join(", ")
}
