//! `cors-filter check`: the filter's own verdict on a config, the policies
//! as the engine runs them, and warnings about settings that are legal but
//! do not do what their author likely wants.

use crate::coverage::shadowed_by;
use crate::{err, json_out, out, CheckArgs, ExitStatus, Failure};
use filter_core::{Config, Mode, PolicyConfig};
use serde::Serialize;
use std::fmt::Write;

/// Chromium keeps a preflight answer at most this long, whatever
/// `Access-Control-Max-Age` says (Firefox: 86400).
const CHROMIUM_MAX_AGE: u64 = 7200;

/// CORS-safelisted response headers: a script can always read them.
const SAFELISTED_RESPONSE_HEADERS: [&str; 7] = [
    "cache-control",
    "content-language",
    "content-length",
    "content-type",
    "expires",
    "last-modified",
    "pragma",
];

/// The methods a policy allows: its list, then those of the methods a
/// browser never asks permission for (`GET`, `HEAD`, `POST`) it leaves out.
pub fn allowed_methods(policy: &PolicyConfig) -> Vec<String> {
    let mut allowed = policy.allow_methods.clone().unwrap_or_default();
    for safelisted in ["GET", "HEAD", "POST"] {
        if !allowed.iter().any(|m| m == safelisted) {
            allowed.push(safelisted.to_string());
        }
    }
    allowed
}

/// A legal setting that is probably a mistake.
#[derive(Debug, Serialize)]
pub struct Warning {
    pub policy: String,
    pub index: usize,
    pub field: String,
    pub value: Option<String>,
    pub code: &'static str,
    pub message: String,
}

/// What `check` found in one config; `--json` writes it as is.
#[derive(Default, Serialize)]
struct Report {
    /// Where the config was found, when it was embedded in another file.
    source: Option<String>,
    status: &'static str,
    mode: Option<Mode>,
    /// The policies as the engine runs them: a valid `policies` list.
    policies: Vec<PolicyConfig>,
    warnings: Vec<Warning>,
    errors: Vec<ErrorView>,
}

/// One refusal, as `ConfigError` gives it.
#[derive(Serialize)]
struct ErrorView {
    policy: Option<String>,
    field: String,
    value: Option<String>,
    problem: String,
    message: String,
}

/// `cors-filter check`: a report on each config found, as text or JSON.
/// A refusal decides the exit status over warnings in another config.
pub fn run(args: &CheckArgs) -> Result<ExitStatus, Failure> {
    let found = crate::read_configs(&args.config)?;
    let mut reports = Vec::new();
    for (index, config) in found.into_iter().enumerate() {
        let report = report(&config.json, config.place, args.production);
        if !args.json {
            if let Some(place) = &report.source {
                let gap = if index > 0 { "\n" } else { "" };
                out(&format!("{gap}config: {place}\n"));
            }
            render(&report);
        }
        reports.push(report);
    }
    match reports.as_slice() {
        [report] if args.json => json_out(report),
        _ if args.json => json_out(&reports),
        _ => {}
    }
    Ok(if reports.iter().any(|r| r.status == "refused") {
        ExitStatus::Refused
    } else if args.strict && reports.iter().any(|r| !r.warnings.is_empty()) {
        ExitStatus::Warnings
    } else {
        ExitStatus::Ok
    })
}

/// The report on one config.
fn report(json: &[u8], source: Option<String>, production: bool) -> Report {
    let config = match Config::from_json(json) {
        Ok(config) => config,
        Err(errors) => {
            let errors = (errors.iter())
                .map(|e| ErrorView {
                    policy: e.policy().map(ToString::to_string),
                    field: e.field().to_string(),
                    value: e.value().map(str::to_string),
                    problem: e.problem().to_string(),
                    message: e.to_string(),
                })
                .collect();
            return Report {
                source,
                status: "refused",
                errors,
                ..Report::default()
            };
        }
    };
    let normalized = config.plugin_config();
    Report {
        source,
        status: "ok",
        mode: Some(normalized.mode),
        policies: normalized.policies.clone(),
        warnings: warnings(&config, production),
        errors: Vec::new(),
    }
}

/// The report as text: the verdict and policies on stdout, a refusal on stderr.
fn render(report: &Report) {
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut text = String::new();
    if report.status == "refused" {
        let count = plural(report.errors.len(), "problem", "problems");
        let _ = writeln!(
            text,
            "refused: {count}; the filter will not run with this config"
        );
        for error in &report.errors {
            let _ = writeln!(text, "{}", error.message);
        }
        return err(&text);
    }
    let mode = spelling(&report.mode);
    let _ = writeln!(
        text,
        "ok: {}, mode {mode}",
        plural(report.policies.len(), "policy", "policies")
    );
    for (index, policy) in report.policies.iter().enumerate() {
        let _ = writeln!(text, "\n{} (policies[{index}])", label(policy));
        for (field, value) in lines(policy) {
            let _ = writeln!(text, "  {:<22} {value}", format!("{field}:"));
        }
    }
    if !report.warnings.is_empty() {
        text.push('\n');
    }
    for w in &report.warnings {
        let value = w
            .value
            .as_ref()
            .map(|v| format!(" {v}"))
            .unwrap_or_default();
        let policy = quote(&w.policy);
        let _ = writeln!(
            text,
            "warning: policy {policy} {}{value}: {} [{}]",
            w.field, w.message, w.code
        );
    }
    out(&text);
}

/// A list for people: its items joined with commas, or `(none)`.
pub fn list(items: &[String]) -> String {
    match items {
        [] => "(none)".to_string(),
        items => items.join(", "),
    }
}

/// A string as JSON, the way the engine quotes values in its messages.
pub fn quote(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

/// `policy "api"`, as the engine names policies in its messages.
pub fn label(policy: &PolicyConfig) -> String {
    format!("policy {}", quote(&policy.name))
}

/// The settings, one `field: value` line each, for people.
fn lines(policy: &PolicyConfig) -> Vec<(&'static str, String)> {
    let any = |items: &Option<Vec<String>>| items.as_deref().map_or("any".to_string(), list);
    let scope = &policy.r#match;
    let mut scope_line = format!("hosts {}; paths {}", any(&scope.hosts), any(&scope.paths));
    if scope.ignore_case {
        scope_line.push_str(" (paths ignore case)");
    }
    let listed = policy.allow_methods.as_deref().unwrap_or_default();
    let methods = match &allowed_methods(policy)[listed.len()..] {
        _ if listed == ["*"] => "* (any method)".to_string(),
        [] => list(listed),
        safelisted => format!(
            "{} (and {}, always allowed)",
            list(listed),
            safelisted.join(", ")
        ),
    };
    let headers: Vec<String> = (policy.allow_headers.iter())
        .map(|h| match h.as_str() {
            "*" => "* (any name but authorization)".to_string(),
            name => name.to_string(),
        })
        .collect();
    vec![
        ("match", scope_line),
        ("allow_origins", list(&policy.allow_origins)),
        ("allow_methods", methods),
        ("allow_headers", list(&headers)),
        ("expose_headers", list(&policy.expose_headers)),
        ("allow_credentials", policy.allow_credentials.to_string()),
        (
            "max_age",
            (policy.max_age.as_ref()).map_or("(no header)".to_string(), |s| format!("{s} s")),
        ),
        (
            "allow_private_network",
            policy.allow_private_network.to_string(),
        ),
        ("disallowed", spelling(&policy.disallowed)),
    ]
}

/// A unit enum as serde spells it (`reject`, `widening`).
pub fn spelling<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn warnings(config: &Config, production: bool) -> Vec<Warning> {
    let policies = &config.plugin_config().policies;
    let mut warnings = Vec::new();
    for (index, policy) in policies.iter().enumerate() {
        let mut warn = |field: String, value: Option<String>, code, message: String| {
            warnings.push(Warning {
                policy: policy.name.clone(),
                index,
                field,
                value,
                code,
                message,
            })
        };
        if let Some(by) = shadowed_by(policies, index) {
            let names: Vec<String> = (by.iter())
                .map(|&i| format!("{} (policies[{i}])", label(&policies[i])))
                .collect();
            warn(
                "match".into(),
                None,
                "unreachable_policy",
                format!(
                "this policy never applies: every host and path it matches is taken first by {}",
                names.join(" and ")
            ),
            );
        }
        let max_age = policy.max_age.as_ref().and_then(serde_json::Number::as_u64);
        if let Some(max_age) = max_age.filter(|s| *s > CHROMIUM_MAX_AGE) {
            warn("max_age".into(), Some(max_age.to_string()), "max_age_above_browser_cap",
                format!("Chromium keeps a preflight answer at most {CHROMIUM_MAX_AGE} s (2 hours) and asks again after that; only Firefox (up to 86400 s) honours more"));
        }
        if policy.allow_private_network {
            warn("allow_private_network".into(), Some("true".into()), "private_network_access_on_hold",
                "Chromium put Private Network Access preflights on hold in favour of a permission prompt (Local Network Access), so browsers no longer send Access-Control-Request-Private-Network and this setting has no effect on them".into());
        }
        for (i, origin) in policy.allow_origins.iter().enumerate() {
            let field = format!("allow_origins[{i}]");
            if origin == "null" {
                warn(field, Some(quote(origin)), "null_origin",
                    "sandboxed iframes, file: pages and redirects across origins on any site send Origin: null, so this trusts them all".into());
            } else if let Some(suffix) = filter_core::covers_public_suffix(origin) {
                warn(field, Some(quote(origin)), "wildcard_over_public_suffix", format!(
                    "{suffix} is a public suffix: anyone can register a domain under it, so this trusts strangers' sites; list your own domains instead (with allow_credentials the filter refuses it)"));
            } else if production && filter_core::is_loopback_origin(origin) {
                warn(field, Some(quote(origin)), "loopback_origin_in_production",
                    "a loopback origin in a production config: any program or dev server on a user's own machine can call this API with the user's session; keep it to development configs".into());
            }
        }
        for (i, name) in policy.expose_headers.iter().enumerate() {
            if SAFELISTED_RESPONSE_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
                warn(format!("expose_headers[{i}]"), Some(quote(name)), "safelisted_expose_header",
                    "a CORS-safelisted response header: scripts can always read it, so listing it changes nothing".into());
            }
        }
    }
    warnings
}
