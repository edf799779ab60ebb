//! `cors-filter check`: the filter's own verdict on a config, the policies
//! as the engine reads them, and warnings about settings that are legal but
//! do not do what their author likely wants.

use crate::coverage::shadowed_by;
use crate::origin::{is_loopback, Entry, Host};
use crate::view::{self, PolicyView};
use crate::{ExitStatus, Output};
use filter_core::{Config, ConfigErrors};
use serde::Serialize;
use serde_json::Value;

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

#[derive(Serialize)]
struct Report<'a> {
    status: &'static str,
    mode: Option<&'static str>,
    policies: &'a [PolicyView],
    warnings: &'a [Warning],
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

pub struct Options {
    pub production: bool,
    pub strict: bool,
}

pub fn run(json: &[u8], options: &Options, output: &mut Output) -> ExitStatus {
    let config = match Config::from_json(json) {
        Ok(config) => config,
        Err(errors) => return refused(&errors, output),
    };
    let mode = if config.is_shadow() {
        "shadow"
    } else {
        "enforce"
    };
    let document: Value = serde_json::from_slice(json).unwrap_or_default();
    let policies = view::policies(&document);
    let warnings = warnings(&policies, options.production);
    if output.json {
        output.json_out(&Report {
            status: "ok",
            mode: Some(mode),
            policies: &policies,
            warnings: &warnings,
            errors: Vec::new(),
        });
    } else {
        let count = policies.len();
        output.out(&format!(
            "ok: {count} {}, mode {mode}\n",
            if count == 1 { "policy" } else { "policies" }
        ));
        for policy in &policies {
            output.out(&format!(
                "\n{} (policies[{}])\n",
                policy.label(),
                policy.index
            ));
            for (field, value) in policy.lines() {
                output.out(&format!("  {:<22} {value}\n", format!("{field}:")));
            }
        }
        if !warnings.is_empty() {
            output.out("\n");
        }
        for warning in &warnings {
            output.out(&format!("{}\n", render(warning)));
        }
    }
    if options.strict && !warnings.is_empty() {
        ExitStatus::Warnings
    } else {
        ExitStatus::Ok
    }
}

fn refused(errors: &ConfigErrors, output: &mut Output) -> ExitStatus {
    if output.json {
        output.json_out(&Report {
            status: "refused",
            mode: None,
            policies: &[],
            warnings: &[],
            errors: errors
                .iter()
                .map(|e| ErrorView {
                    policy: e.policy().map(ToString::to_string),
                    field: e.field().to_string(),
                    value: e.value().map(str::to_string),
                    problem: e.problem().to_string(),
                    message: e.to_string(),
                })
                .collect(),
        });
    } else {
        let count = errors.iter().count();
        output.err(&format!(
            "refused: {count} {}; the filter will not run with this config\n{errors}\n",
            if count == 1 { "problem" } else { "problems" }
        ));
    }
    ExitStatus::Refused
}

/// `warning: policy "api" max_age 86400: …`
fn render(warning: &Warning) -> String {
    let value = warning
        .value
        .as_ref()
        .map(|v| format!(" {v}"))
        .unwrap_or_default();
    format!(
        "warning: policy {} {}{value}: {} [{}]",
        Value::from(warning.policy.as_str()),
        warning.field,
        warning.message,
        warning.code
    )
}

pub fn warnings(policies: &[PolicyView], production: bool) -> Vec<Warning> {
    let mut warnings = Vec::new();
    for policy in policies {
        let mut warn = |field: String, value: Option<String>, code, message: String| {
            warnings.push(Warning {
                policy: policy.name.clone(),
                index: policy.index,
                field,
                value,
                code,
                message,
            })
        };
        if let Some(by) = shadowed_by(policies, policy.index) {
            let names: Vec<String> = by
                .iter()
                .map(|&i| format!("{} (policies[{i}])", policies[i].label()))
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
        if let Some(max_age) = policy.max_age.filter(|s| *s > CHROMIUM_MAX_AGE) {
            warn(
                "max_age".into(),
                Some(max_age.to_string()),
                "max_age_above_browser_cap",
                format!("Chromium keeps a preflight answer at most {CHROMIUM_MAX_AGE} s (2 hours) and asks again after that; only Firefox (up to 86400 s) honours more"),
            );
        }
        if policy.allow_private_network {
            warn(
                "allow_private_network".into(),
                Some("true".into()),
                "private_network_access_on_hold",
                "Chromium put Private Network Access preflights on hold in favour of a permission prompt (Local Network Access), so browsers no longer send Access-Control-Request-Private-Network and this setting has no effect on them".into(),
            );
        }
        for (i, origin) in policy.allow_origins.iter().enumerate() {
            let field = format!("allow_origins[{i}]");
            let quoted = Some(Value::from(origin.as_str()).to_string());
            match Entry::parse(origin) {
                Entry::Null => warn(
                    field,
                    quoted,
                    "null_origin",
                    "sandboxed iframes, file: pages and redirects across origins on any site send Origin: null, so this trusts them all".into(),
                ),
                Entry::Origin {
                    host: Host::Exact(host),
                    ..
                } if production && is_loopback(&host) => warn(
                    field,
                    quoted,
                    "loopback_origin_in_production",
                    "a loopback origin in a production config: any program or dev server on a user's own machine can call this API with the user's session; keep it to development configs".into(),
                ),
                _ => {}
            }
        }
        for (i, name) in policy.expose_headers.iter().enumerate() {
            if SAFELISTED_RESPONSE_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
                warn(
                    format!("expose_headers[{i}]"),
                    Some(Value::from(name.as_str()).to_string()),
                    "safelisted_expose_header",
                    "a CORS-safelisted response header: scripts can always read it, so listing it changes nothing".into(),
                );
            }
        }
    }
    warnings
}
