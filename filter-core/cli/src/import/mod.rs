//! `cors-filter import`: another proxy's CORS settings as policies of the
//! plugin JSON, one for each route (or virtual host, plugin, rule) that has
//! CORS settings, with that route's hosts and paths as its `match`, in the
//! order that keeps the filter's first match on the policy the source chose.
//!
//! What cannot be said the same way is never guessed at: it is left out or
//! narrowed, and flagged. What can only be carried more widely (a route's
//! header condition, a glob for `[0-9]+`) is flagged as widening, and the
//! import fails unless the caller accepts that.

mod envoy;
mod gateway;
mod istio;
mod kong;
mod origins;
mod regex;
mod scope;

pub use filter_core::PluginConfig;
use filter_core::{normalize_origin_entry, Config, Match, PolicyConfig, Problem};
use scope::Scope;
use serde::Serialize;
use serde_json::Value;

/// The proxies whose CORS settings can be imported.
#[derive(Clone, Copy, Debug)]
pub enum Source {
    Envoy,
    Istio,
    Kong,
    GatewayApi,
}

impl Source {
    pub fn parse(name: &str) -> Option<Source> {
        match name {
            "envoy" => Some(Source::Envoy),
            "istio" => Some(Source::Istio),
            "kong" => Some(Source::Kong),
            "gateway-api" => Some(Source::GatewayApi),
            _ => None,
        }
    }

    fn proxy(self) -> &'static str {
        match self {
            Source::Envoy => "Envoy",
            Source::Istio => "Istio",
            Source::Kong => "Kong",
            Source::GatewayApi => "Gateway API",
        }
    }
}

/// How much a finding matters; `--json` writes these names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The imported config lets more requests or origins through than the
    /// source did: `import` fails unless `--accept-widening`.
    Widening,
    /// The source allowed something a hostile site can use.
    Insecure,
    /// A setting has no equivalent here and was left out.
    Untranslatable,
    /// Imported, but it behaves differently from the source.
    Changed,
    /// Left out because it made no difference to browsers.
    Ignored,
}

/// One thing the import could not carry over as it was.
#[derive(Debug, Clone, Serialize)]
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

/// The CORS settings of one route, being assembled from the source.
#[derive(Debug)]
pub struct Draft {
    proxy: &'static str,
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
    fn new(source: Source) -> Draft {
        Draft {
            proxy: source.proxy(),
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

/// A route of the source: where it applies and, when it has them, its CORS
/// settings. Routes without CORS matter too: the policies must not take
/// over the requests they served.
pub struct Route {
    /// Where in the source: `virtual_hosts[0].routes[1]`.
    pub source: String,
    pub name: String,
    /// Where it applies; several when the source ranks its conditions apart
    /// (Gateway API ranks each path match of a rule on its own).
    pub scopes: Vec<Scope>,
    pub cors: Option<Draft>,
    /// What its scope could not carry.
    pub findings: Vec<Finding>,
}

/// What `import` produced.
pub struct Imported {
    pub config: PluginConfig,
    pub findings: Vec<Finding>,
}

/// Options that steer an import.
pub struct Options<'a> {
    /// The policies' name (numbered when there are several).
    pub name: Option<&'a str>,
    /// Write the config even when it lets through more than the source.
    pub accept_widening: bool,
}

/// Why an import produced nothing, with what was found on the way.
pub struct Failure {
    pub message: String,
    pub findings: Vec<Finding>,
}

/// Reads the source documents and builds one policy per route with CORS.
///
/// # Errors
/// Why nothing usable came out: the file holds no CORS settings of that
/// kind, no origin could be carried over, or the result is wider than the
/// source and `accept_widening` is off.
pub fn import(source: Source, text: &str, options: &Options) -> Result<Imported, Failure> {
    let plain = |message| Failure {
        message,
        findings: Vec::new(),
    };
    let documents = parse_documents(text).map_err(plain)?;
    let routes = match source {
        Source::Envoy => envoy::read(&documents),
        Source::Istio => istio::read(&documents),
        Source::Kong => kong::read(&documents),
        Source::GatewayApi => gateway::read(&documents),
    }
    .map_err(plain)?;
    let mut findings = Vec::new();
    let mut built = Vec::with_capacity(routes.len());
    for route in routes {
        let mut policy = None;
        if let Some(mut draft) = route.cors {
            policy = finish(&mut draft);
            findings.append(&mut draft.findings);
            if policy.is_some() {
                findings.extend(route.findings);
            } else {
                findings.push(Finding {
                    severity: Severity::Untranslatable,
                    source: route.source.clone(),
                    message: "no origin could be carried over, so the route gets no policy".into(),
                });
            }
        }
        built.push((route.source, route.name, route.scopes, policy));
    }
    // Exact hosts before `*.` patterns before any host; Envoy and Istio try
    // routes in order, Kong and Gateway API prefer the most specific path.
    let by_path = matches!(source, Source::Kong | Source::GatewayApi);
    let placed = built
        .iter()
        .enumerate()
        .flat_map(|(i, (_, _, scopes, _))| scopes.iter().map(move |s| (i, s.clone())));
    let placed = scope::order(placed.collect(), by_path);
    let mut policies: Vec<PolicyConfig> = Vec::new();
    for (at, (i, scope)) in placed.iter().enumerate() {
        let (route_source, name, _, policy) = &built[*i];
        let Some(policy) = policy else {
            // A route without CORS: a later policy must not answer for it.
            if let Some((j, _)) = placed[at + 1..]
                .iter()
                .find(|(j, s)| built[*j].3.is_some() && s.overlaps(scope))
            {
                scope::widening(&mut findings, route_source, format!("{} served these requests without CORS; the policy for {} now answers them: list the route's paths in that policy's match or leave them out", source.proxy(), built[*j].0));
            }
            continue;
        };
        let base = options.name.unwrap_or(name);
        let mut name = base.to_string();
        for n in 2.. {
            if !policies.iter().any(|p| p.name == name) {
                break;
            }
            name = format!("{base}-{n}");
        }
        let non_empty = |list: &[String]| (!list.is_empty()).then(|| list.to_vec());
        policies.push(PolicyConfig {
            name,
            r#match: Match {
                hosts: non_empty(&scope.hosts),
                paths: non_empty(&scope.paths),
                ignore_case: scope.ignore_case,
            },
            ..policy.clone()
        });
    }
    // A virtual host's policy shared by its routes is reported once.
    let mut seen = std::collections::HashSet::new();
    findings.retain(|f| seen.insert((f.source.clone(), f.message.clone())));
    if policies.is_empty() {
        return Err(Failure {
            message: format!(
                "no origin of the {} settings could be carried over, so there is no policy to write",
                source.proxy()
            ),
            findings,
        });
    }
    if !options.accept_widening && findings.iter().any(|f| f.severity == Severity::Widening) {
        return Err(Failure {
            message: "the imported config would let through requests or origins that the source did not (the widening findings above); review them, then run again with --accept-widening".into(),
            findings,
        });
    }
    let config = PluginConfig {
        schema: None,
        mode: Default::default(),
        policies,
    };
    Ok(Imported { config, findings })
}

/// YAML or JSON (JSON is YAML), one document or several separated by `---`.
fn parse_documents(text: &str) -> Result<Vec<Value>, String> {
    crate::yaml::documents(text)
}

/// Applies the filter's rules to the draft: what the filter refuses is left
/// out and flagged, and the result is checked by the engine itself. `None`
/// when no origin is left.
fn finish(draft: &mut Draft) -> Option<PolicyConfig> {
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
    let credentials = draft.credentials.is_some();
    let mut methods = draft.methods.take();
    let mut headers = std::mem::take(&mut draft.headers);
    let mut expose = std::mem::take(&mut draft.expose);
    let max_age = draft.max_age.take().map(|(source, seconds)| {
        let clamped = seconds.clamp(0.0, 86400.0).floor();
        if clamped != seconds {
            draft.flag(Severity::Changed, &source, format!("max_age {seconds} is outside 0 to 86400 whole seconds; imported as {clamped} (browsers cap it lower anyway: Chromium at 7200)"));
        }
        serde_json::Number::from(clamped as u64)
    });
    let values = |items: &[Item]| items.iter().map(|i| i.value.clone()).collect::<Vec<_>>();
    // Let the engine judge what remains; drop what it refuses, item by item.
    loop {
        if origins.is_empty() {
            return None;
        }
        let policy = PolicyConfig {
            name: "imported".into(),
            r#match: Match::default(),
            allow_origins: values(&origins),
            allow_methods: methods.as_deref().filter(|m| !m.is_empty()).map(values),
            allow_headers: values(&headers),
            expose_headers: values(&expose),
            allow_credentials: credentials,
            max_age: max_age.clone(),
            allow_private_network: draft.private_network,
            disallowed: Default::default(),
        };
        let config = PluginConfig {
            schema: None,
            mode: Default::default(),
            policies: vec![policy.clone()],
        };
        let json = serde_json::to_string(&config).unwrap_or_default();
        let errors = match Config::from_json(json.as_bytes()) {
            Ok(_) => return Some(policy),
            Err(errors) => errors,
        };
        let refused = errors.iter().find_map(|error| {
            let (list, index) = list_index(error.field())?;
            let items = match list {
                "allow_origins" => &mut origins,
                "allow_methods" => methods.as_mut()?,
                "allow_headers" => &mut headers,
                "expose_headers" => &mut expose,
                _ => return None,
            };
            (index < items.len()).then(|| (items.remove(index), error.problem().clone()))
        });
        let Some((item, problem)) = refused else {
            draft.flag(
                Severity::Untranslatable,
                "",
                format!("the filter refuses the imported policy:\n{errors}"),
            );
            return None;
        };
        let severity = match problem {
            Problem::ForbiddenMethod
            | Problem::ForbiddenRequestHeader
            | Problem::ForbiddenResponseHeader => Severity::Ignored,
            Problem::CredentialsWithNullOrigin | Problem::CredentialsOverPlainHttp => {
                Severity::Insecure
            }
            Problem::CredentialsWithWildcard => Severity::Changed,
            _ => Severity::Untranslatable,
        };
        draft.flag(
            severity,
            &item.source,
            format!("\"{}\" is left out: {problem}", item.value),
        );
    }
}

/// `allow_headers[3]` as `("allow_headers", 3)`.
fn list_index(field: &str) -> Option<(&str, usize)> {
    let (list, rest) = field.split_once('[')?;
    Some((list, rest.strip_suffix(']')?.parse().ok()?))
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
        .map(|f| {
            let severity = serde_json::to_value(f.severity).ok();
            let severity = severity
                .as_ref()
                .and_then(Value::as_str)
                .unwrap_or_default();
            format!("{severity}: {}: {}\n", f.source, f.message)
        })
        .collect()
}
