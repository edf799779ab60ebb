//! `cors-filter import`: another proxy's CORS settings as one policy of the
//! plugin JSON. What cannot be said the same way is never guessed at: it is
//! left out or narrowed, and flagged, so that the output is safe to deploy
//! and the findings say what to review.

mod envoy;
mod istio;
mod kong;
mod origins;
mod regex;

use crate::origin::{is_loopback, split_host_port};
use filter_core::{normalize_origin_entry, Config, FieldPath, Problem, Segment};
use serde::Serialize;
use serde_json::Value;

/// The proxies whose CORS settings can be imported.
#[derive(Clone, Copy, Debug)]
pub enum Source {
    Envoy,
    Istio,
    Kong,
}

impl Source {
    pub fn parse(name: &str) -> Option<Source> {
        match name {
            "envoy" => Some(Source::Envoy),
            "istio" => Some(Source::Istio),
            "kong" => Some(Source::Kong),
            _ => None,
        }
    }

    fn proxy(self) -> &'static str {
        match self {
            Source::Envoy => "Envoy",
            Source::Istio => "Istio",
            Source::Kong => "Kong",
        }
    }
}

/// How much a finding matters; `--json` writes these names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The source allowed something a hostile site can use.
    Insecure,
    /// A setting has no equivalent here and was left out.
    Untranslatable,
    /// Imported, but it behaves differently from the source.
    Changed,
    /// Left out because it made no difference to browsers.
    Ignored,
}

impl Severity {
    fn as_str(self) -> &'static str {
        match self {
            Severity::Insecure => "insecure",
            Severity::Untranslatable => "untranslatable",
            Severity::Changed => "changed",
            Severity::Ignored => "ignored",
        }
    }
}

/// One thing the import could not carry over as it was.
#[derive(Debug, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// Where in the source: `allow_origin_string_match[2]`, `config.origins[0]`.
    pub source: String,
    pub message: String,
}

/// A value from the source and where it came from, so that a finding about
/// it can point back.
#[derive(Debug, Clone)]
pub struct Item {
    pub source: String,
    pub value: String,
}

/// The policy being assembled from the source.
#[derive(Debug)]
pub struct Draft {
    proxy: &'static str,
    pub name: String,
    pub paths: Option<Vec<String>>,
    pub origins: Vec<Item>,
    /// `None`: the filter's default, `GET, HEAD, POST`.
    pub methods: Option<Vec<Item>>,
    pub headers: Vec<Item>,
    pub expose: Vec<Item>,
    /// Where the source turned credentials on.
    pub credentials: Option<String>,
    pub max_age: Option<(String, f64)>,
    pub private_network: bool,
    pub findings: Vec<Finding>,
}

impl Draft {
    fn new(source: Source, name: String) -> Draft {
        Draft {
            proxy: source.proxy(),
            name,
            paths: None,
            origins: Vec::new(),
            methods: None,
            headers: Vec::new(),
            expose: Vec::new(),
            credentials: None,
            max_age: None,
            private_network: false,
            findings: Vec::new(),
        }
    }

    pub fn flag(&mut self, severity: Severity, source: &str, message: impl Into<String>) {
        self.findings.push(Finding {
            severity,
            source: source.to_string(),
            message: message.into(),
        });
    }

    pub fn origin(&mut self, source: &str, entry: impl Into<String>) {
        self.origins.push(Item {
            source: source.to_string(),
            value: entry.into(),
        });
    }
}

/// The plugin JSON written out: field order as in the configuration
/// reference, defaults left out.
#[derive(Debug, Serialize)]
pub struct PluginConfig {
    policies: Vec<PolicyOut>,
}

#[derive(Debug, Clone, Serialize)]
struct PolicyOut {
    name: String,
    #[serde(rename = "match", skip_serializing_if = "Option::is_none")]
    scope: Option<MatchOut>,
    allow_origins: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    allow_methods: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    allow_headers: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    expose_headers: Vec<String>,
    #[serde(skip_serializing_if = "is_false")]
    allow_credentials: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_age: Option<u64>,
    #[serde(skip_serializing_if = "is_false")]
    allow_private_network: bool,
}

#[derive(Debug, Clone, Serialize)]
struct MatchOut {
    paths: Vec<String>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// What `import` produced.
pub struct Imported {
    pub config: PluginConfig,
    pub findings: Vec<Finding>,
}

/// Options that steer an import.
pub struct Options<'a> {
    pub name: Option<&'a str>,
    /// Istio: which `http` route, by name or index.
    pub route: Option<&'a str>,
}

/// Reads the source documents and builds the policy.
///
/// # Errors
/// Why nothing usable came out: the file holds no CORS settings of that
/// kind, or no origin could be carried over.
pub fn import(source: Source, text: &str, options: &Options) -> Result<Imported, Failure> {
    let documents = parse_documents(text).map_err(Failure::plain)?;
    let mut draft = match source {
        Source::Envoy => envoy::read(&documents, options),
        Source::Istio => istio::read(&documents, options),
        Source::Kong => kong::read(&documents, options),
    }
    .map_err(Failure::plain)?;
    let policy = match finish(&mut draft) {
        Ok(policy) => policy,
        Err(message) => {
            return Err(Failure {
                message,
                findings: draft.findings,
            })
        }
    };
    Ok(Imported {
        config: PluginConfig {
            policies: vec![policy],
        },
        findings: draft.findings,
    })
}

/// Why an import produced nothing, with what was found on the way.
pub struct Failure {
    pub message: String,
    pub findings: Vec<Finding>,
}

impl Failure {
    fn plain(message: String) -> Failure {
        Failure {
            message,
            findings: Vec::new(),
        }
    }
}

/// YAML or JSON (JSON is YAML), one document or several separated by `---`.
fn parse_documents(text: &str) -> Result<Vec<Value>, String> {
    let mut documents = Vec::new();
    for document in serde_yaml::Deserializer::from_str(text) {
        let value = <Value as serde::Deserialize>::deserialize(document)
            .map_err(|e| format!("not valid YAML or JSON: {e}"))?;
        if !value.is_null() {
            documents.push(value);
        }
    }
    Ok(documents)
}

/// Applies the filter's rules to the draft: what the filter refuses is left
/// out and flagged, and the result is checked by the engine itself.
fn finish(draft: &mut Draft) -> Result<PolicyOut, String> {
    let proxy = draft.proxy;
    let mut origins: Vec<Item> = Vec::new();
    for item in std::mem::take(&mut draft.origins) {
        match normalize_origin_entry(&item.value) {
            Ok(entry) if origins.iter().any(|o| o.value == entry) => {}
            Ok(entry) => origins.push(Item {
                source: item.source,
                value: entry,
            }),
            Err(problem) => draft.flag(
                Severity::Untranslatable,
                &item.source,
                format!("\"{}\" is left out: {problem}", item.value),
            ),
        }
    }
    if let Some(any) = origins.iter().find(|o| o.value == "*").cloned() {
        origins = vec![any];
    }
    if let Some(credentials) = draft.credentials.clone() {
        if let Some(any) = origins.iter().find(|o| o.value == "*") {
            let source = any.source.clone();
            draft.flag(
                Severity::Insecure,
                &source,
                format!(
                    "every origin is allowed with credentials ({credentials}): {proxy} echoes the Origin, so any site can read responses made with the user's cookies. Imported without allow_credentials; list the origins that need credentials and set it again"
                ),
            );
            draft.credentials = None;
        }
    }
    if let Some(credentials) = draft.credentials.clone() {
        origins.retain(|origin| {
            let why = if origin.value == "null" {
                "the \"null\" origin with credentials lets any sandboxed page or file: document read responses made with the user's cookies"
            } else if is_plain_http_off_loopback(&origin.value) {
                "a plain http origin with credentials can be impersonated by anyone on the network path"
            } else {
                return true;
            };
            draft.findings.push(Finding {
                severity: Severity::Insecure,
                source: origin.source.clone(),
                message: format!(
                    "\"{}\" is left out: {why} ({credentials} is set)",
                    origin.value
                ),
            });
            false
        });
    }
    let credentials = draft.credentials.is_some();
    let wildcard_with_credentials = |draft: &mut Draft, items: &mut Vec<Item>, field: &str| {
        if !credentials {
            return;
        }
        items.retain(|item| {
            if item.value != "*" {
                return true;
            }
            draft.findings.push(Finding {
                severity: Severity::Changed,
                source: item.source.clone(),
                message: format!(
                    "\"*\" in {field} cannot go with allow_credentials (browsers take it literally then): list the values; left out"
                ),
            });
            false
        });
    };
    let mut methods = draft.methods.take();
    if let Some(methods) = methods.as_mut() {
        wildcard_with_credentials(draft, methods, "allow_methods");
    }
    let mut headers = std::mem::take(&mut draft.headers);
    wildcard_with_credentials(draft, &mut headers, "allow_headers");
    let mut expose = std::mem::take(&mut draft.expose);
    wildcard_with_credentials(draft, &mut expose, "expose_headers");
    let max_age = match draft.max_age.take() {
        None => None,
        Some((source, seconds))
            if !(0.0..=86400.0).contains(&seconds) || seconds.fract() != 0.0 =>
        {
            let clamped = seconds.clamp(0.0, 86400.0).floor();
            draft.flag(
                Severity::Changed,
                &source,
                format!(
                    "max_age {seconds} is outside 0 to 86400 whole seconds; imported as {clamped} (browsers cap it lower anyway: Chromium at 7200)"
                ),
            );
            Some(clamped as u64)
        }
        Some((_, seconds)) => Some(seconds as u64),
    };
    let mut policy = PolicyOut {
        name: draft.name.clone(),
        scope: draft.paths.clone().map(|paths| MatchOut { paths }),
        allow_origins: Vec::new(),
        allow_methods: None,
        allow_headers: Vec::new(),
        expose_headers: Vec::new(),
        allow_credentials: credentials,
        max_age,
        allow_private_network: draft.private_network,
    };
    // Let the engine judge what remains; drop what it refuses, item by item.
    loop {
        if origins.is_empty() {
            return Err(format!(
                "no origin of the {proxy} settings could be carried over, so there is no policy to write"
            ));
        }
        policy.allow_origins = values(&origins);
        policy.allow_methods = methods
            .as_ref()
            .filter(|m| !m.is_empty())
            .map(|m| values(m));
        policy.allow_headers = values(&headers);
        policy.expose_headers = values(&expose);
        let json = serde_json::to_string(&PluginConfig {
            policies: vec![policy.clone()],
        })
        .map_err(|e| e.to_string())?;
        let errors = match Config::from_json(json.as_bytes()) {
            Ok(_) => return Ok(policy),
            Err(errors) => errors,
        };
        let mut dropped = false;
        for error in errors.iter() {
            let field = error.field();
            let Some((list, index)) = list_index(field) else {
                continue;
            };
            let items = match list {
                "allow_origins" => &mut origins,
                "allow_methods" => match methods.as_mut() {
                    Some(methods) => methods,
                    None => continue,
                },
                "allow_headers" => &mut headers,
                "expose_headers" => &mut expose,
                _ => continue,
            };
            if index >= items.len() {
                continue;
            }
            let item = items.remove(index);
            let severity = match error.problem() {
                Problem::ForbiddenMethod
                | Problem::ForbiddenRequestHeader
                | Problem::ForbiddenResponseHeader => Severity::Ignored,
                _ => Severity::Untranslatable,
            };
            draft.flag(
                severity,
                &item.source,
                format!("\"{}\" is left out: {}", item.value, error.problem()),
            );
            dropped = true;
            // Indexes after this one have moved: ask the engine again.
            break;
        }
        if !dropped {
            return Err(format!("the filter refuses the imported policy:\n{errors}"));
        }
    }
}

fn values(items: &[Item]) -> Vec<String> {
    items.iter().map(|i| i.value.clone()).collect()
}

/// `allow_headers[3]` as `("allow_headers", 3)`.
fn list_index(field: &FieldPath) -> Option<(&str, usize)> {
    match field.segments() {
        [Segment::Field(list), Segment::Index(index)] => Some((list, *index)),
        _ => None,
    }
}

fn is_plain_http_off_loopback(entry: &str) -> bool {
    entry
        .strip_prefix("http://")
        .is_some_and(|rest| !is_loopback(split_host_port(rest).0))
}

/// Comma-separated header values (`"GET, POST"`), as Envoy writes lists.
pub fn split_list(source: &str, value: &str) -> Vec<Item> {
    value
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .enumerate()
        .map(|(i, v)| Item {
            source: format!("{source}[{i}]"),
            value: v.to_string(),
        })
        .collect()
}

/// A list of strings, each with its position.
pub fn string_items(draft: &mut Draft, source: &str, value: &Value) -> Vec<Item> {
    let Some(list) = value.as_array() else {
        draft.flag(
            Severity::Untranslatable,
            source,
            "is not a list of strings; left out",
        );
        return Vec::new();
    };
    let mut items = Vec::with_capacity(list.len());
    for (i, entry) in list.iter().enumerate() {
        let path = format!("{source}[{i}]");
        match entry.as_str() {
            Some(s) => items.push(Item {
                source: path,
                value: s.to_string(),
            }),
            None => draft.flag(Severity::Untranslatable, &path, "is not a string; left out"),
        }
    }
    items
}

/// Prints the findings for people, one a line.
pub fn render_findings(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(|f| format!("{}: {}: {}\n", f.severity.as_str(), f.source, f.message))
        .collect()
}
