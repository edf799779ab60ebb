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

use crate::coverage::overlaps;
use crate::{err, json_out, ExitStatus, Failure, ImportArgs};
use clap::builder::PossibleValue;
use clap::ValueEnum;
use filter_core::{Config, ConfigErrors, Match, PluginConfig, PolicyConfig, Problem, Segment};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::mem::take;

/// A proxy whose CORS settings can be imported; clap reads it by its name.
#[derive(Clone, Copy)]
pub struct Source {
    /// Its name on the command line.
    name: &'static str,
    /// Its name in findings.
    proxy: &'static str,
    /// What holds CORS settings in its files.
    expected: &'static str,
    read: fn(&[Value]) -> Vec<Route>,
    /// It prefers the most specific path (Kong, Gateway API), not the first route.
    by_path: bool,
}

const SOURCES: [Source; 4] = [
    Source {
        name: "envoy",
        proxy: "Envoy",
        expected: "a CorsPolicy (allow_origin_string_match), alone or in a virtual host or route",
        read: envoy::read,
        by_path: false,
    },
    Source {
        name: "istio",
        proxy: "Istio",
        expected: "a VirtualService with spec.http[].corsPolicy, or a corsPolicy object",
        read: istio::read,
        by_path: false,
    },
    Source {
        name: "kong",
        proxy: "Kong",
        expected: "a plugin with name (or plugin) \"cors\" and a config, or the config itself",
        read: kong::read,
        by_path: true,
    },
    Source {
        name: "gateway-api",
        proxy: "Gateway API",
        expected: "an HTTPRoute with a rule's filters[] entry of type CORS",
        read: gateway::read,
        by_path: true,
    },
];

impl ValueEnum for Source {
    fn value_variants<'a>() -> &'a [Source] {
        &SOURCES
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.name))
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

/// Records a finding about `source`.
pub fn flag(
    findings: &mut Vec<Finding>,
    severity: Severity,
    source: &str,
    message: impl Into<String>,
) {
    let (source, message) = (source.to_string(), message.into());
    findings.push(Finding {
        severity,
        source,
        message,
    });
}

/// A value from the source and where it came from, so that a finding about
/// it can point back.
#[derive(Debug, Clone)]
pub struct Item {
    pub source: String,
    pub value: String,
}

/// The CORS settings of one route, being assembled from the source.
#[derive(Debug, Default)]
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
    fn new(proxy: &'static str) -> Draft {
        Draft {
            proxy,
            ..Draft::default()
        }
    }

    pub fn flag(&mut self, severity: Severity, source: &str, message: impl Into<String>) {
        flag(&mut self.findings, severity, source, message);
    }

    /// Flags a setting that cannot be read as the source reads it.
    pub fn left_out(&mut self, source: &str, why: &str) {
        self.flag(Severity::Untranslatable, source, format!("{why}; left out"));
    }

    pub fn origin(&mut self, source: &str, entry: impl Into<String>) {
        let (source, value) = (source.to_string(), entry.into());
        self.origins.push(Item { source, value });
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
    pub scopes: Vec<Match>,
    pub cors: Option<Draft>,
    /// What its scope could not carry.
    pub findings: Vec<Finding>,
}

impl Route {
    /// CORS settings found without the route they belong to: they apply
    /// wherever the plugin runs.
    fn everywhere(source: &str, name: Option<&str>, mut draft: Draft) -> Route {
        let source = if source.is_empty() {
            "(the whole file)"
        } else {
            source
        };
        let why = "found without the route or host it belongs to: the policy applies to every host and path the plugin sees";
        draft.flag(Severity::Changed, source, why);
        Route {
            source: source.to_string(),
            name: name.unwrap_or("imported").to_string(),
            scopes: vec![Match::default()],
            cors: Some(draft),
            findings: Vec::new(),
        }
    }
}

/// A JSON list's elements with their positions; none when it is no list
/// (or no value: `fields.get(key)` and `&value[key]` both do).
pub fn list<'a>(value: impl Into<Option<&'a Value>>) -> impl Iterator<Item = (usize, &'a Value)> {
    value
        .into()
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
}

/// Calls `visit` with every object under `value` and its path (`a.b[2].`),
/// in document order, except inside an object `visit` takes (returns true).
pub fn walk(value: &Value, path: &str, visit: &mut impl FnMut(&Map<String, Value>, &str) -> bool) {
    match value {
        Value::Object(fields) if visit(fields, path) => {}
        Value::Object(fields) => {
            for (key, child) in fields {
                walk(child, &format!("{path}{key}."), visit);
            }
        }
        Value::Array(items) => {
            let path = path.strip_suffix('.').unwrap_or(path);
            for (i, child) in items.iter().enumerate() {
                walk(child, &format!("{path}[{i}]."), visit);
            }
        }
        _ => {}
    }
}

/// What `import` produced; `--json` writes it as is.
#[derive(Serialize)]
struct Report {
    /// `None` when nothing usable came out, and `error` says why.
    config: Option<PluginConfig>,
    error: Option<String>,
    findings: Vec<Finding>,
}

/// `cors-filter import`: the config on stdout and the findings on stderr,
/// or both as one JSON document.
pub fn run(args: &ImportArgs) -> Result<ExitStatus, Failure> {
    let bytes = crate::read_input(&args.path).map_err(Failure::refused)?;
    let report = import(args, &String::from_utf8_lossy(&bytes));
    if args.json {
        json_out(&report);
    } else {
        if let Some(config) = &report.config {
            json_out(config);
        }
        for f in &report.findings {
            let severity = crate::check::spelling(&f.severity);
            err(&format!("{severity}: {}: {}\n", f.source, f.message));
        }
        if let Some(error) = &report.error {
            err(&format!("cors-filter: {error}\n"));
        }
    }
    Ok(match report {
        Report { error: Some(_), .. } => ExitStatus::Refused,
        Report { findings, .. } if args.strict && !findings.is_empty() => ExitStatus::Warnings,
        _ => ExitStatus::Ok,
    })
}

/// Reads the source documents and builds one policy per route with CORS.
/// No config, and why, when the file holds no CORS settings of that kind,
/// no origin could be carried over, or the result is wider than the source
/// and `--accept-widening` is not given.
fn import(args: &ImportArgs, text: &str) -> Report {
    let source = args.kind;
    let failed = |message: String, findings| Report {
        config: None,
        error: Some(message),
        findings,
    };
    let documents = match crate::source::documents(text) {
        Ok(documents) => documents,
        Err(message) => return failed(message, Vec::new()),
    };
    let mut routes = (source.read)(&documents);
    if routes.iter().all(|r| r.cors.is_none()) {
        let (proxy, expected) = (source.proxy, source.expected);
        let message = format!("no {proxy} CORS settings found: expected {expected}");
        return failed(message, Vec::new());
    }
    // Each route's policy, `None` for a route without CORS or without an
    // origin left.
    let mut findings = Vec::new();
    let policy_of: Vec<Option<PolicyConfig>> = (routes.iter_mut())
        .map(|route| {
            let mut draft = route.cors.take()?;
            let policy = finish(&mut draft);
            findings.append(&mut draft.findings);
            if policy.is_some() {
                findings.append(&mut route.findings);
            } else {
                let why = "no origin could be carried over, so the route gets no policy";
                flag(&mut findings, Severity::Untranslatable, &route.source, why);
            }
            policy
        })
        .collect();
    // Exact hosts before `*.` patterns before any host; Envoy and Istio try
    // routes in order, Kong and Gateway API prefer the most specific path.
    let placed = (routes.iter().enumerate())
        .flat_map(|(i, route)| route.scopes.iter().map(move |s| (i, s.clone())));
    let placed = scope::order(placed.collect(), source.by_path);
    let mut policies: Vec<PolicyConfig> = Vec::new();
    for (at, (i, scope)) in placed.iter().enumerate() {
        let Some(policy) = &policy_of[*i] else {
            // A route without CORS: a later policy must not answer for it.
            if let Some((j, _)) = placed[at + 1..]
                .iter()
                .find(|(j, s)| policy_of[*j].is_some() && overlaps(s, scope))
            {
                let (proxy, other) = (source.proxy, &routes[*j].source);
                scope::widening(&mut findings, &routes[*i].source, format!("{proxy} served these requests without CORS; the policy for {other} now answers them: list the route's paths in that policy's match or leave them out"));
            }
            continue;
        };
        let base = args.name.as_deref().unwrap_or(&routes[*i].name);
        let mut name = base.to_string();
        for n in 2.. {
            if !policies.iter().any(|p| p.name == name) {
                break;
            }
            name = format!("{base}-{n}");
        }
        policies.push(PolicyConfig {
            name,
            r#match: scope.clone(),
            ..policy.clone()
        });
    }
    // A virtual host's policy shared by its routes is reported once.
    let mut seen = std::collections::HashSet::new();
    findings.retain(|f| seen.insert((f.source.clone(), f.message.clone())));
    if policies.is_empty() {
        let proxy = source.proxy;
        let message = format!("no origin of the {proxy} settings could be carried over, so there is no policy to write");
        return failed(message, findings);
    }
    if !args.accept_widening && findings.iter().any(|f| f.severity == Severity::Widening) {
        let message = "the imported config would let through requests or origins that the source did not (the widening findings above); review them, then run again with --accept-widening";
        return failed(message.into(), findings);
    }
    let config = PluginConfig {
        policies,
        ..PluginConfig::default()
    };
    Report {
        config: Some(config),
        error: None,
        findings,
    }
}

/// Applies the filter's rules to the draft: what the filter refuses is left
/// out and flagged, item by item, as the engine itself judges it. `None`
/// when no origin is left.
fn finish(draft: &mut Draft) -> Option<PolicyConfig> {
    let proxy = draft.proxy;
    let mut origins: Vec<Item> = Vec::new();
    for item in take(&mut draft.origins) {
        // What the engine refuses stays as written, for it to explain.
        let value = filter_core::normalize_origin_entry(&item.value).unwrap_or(item.value);
        if let Some(suffix) = filter_core::covers_public_suffix(&value) {
            let why = format!("\"{value}\" spans the public suffix {suffix}: anyone who registers a matching name there is allowed, as in {proxy}; list your own origins");
            draft.flag(Severity::Insecure, &item.source, why);
        }
        if !origins.iter().any(|o| o.value == value) {
            origins.push(Item { value, ..item });
        }
    }
    if let Some(any) = origins.iter().find(|o| o.value == "*").cloned() {
        if let Some(credentials) = draft.credentials.take() {
            let why = format!("every origin is allowed with credentials ({credentials}): {proxy} echoes the Origin, so any site can read responses made with the user's cookies. Imported without allow_credentials; list the origins that need credentials and set it again");
            draft.flag(Severity::Insecure, &any.source, why);
        }
        origins = vec![any];
    }
    let default_methods = draft.methods.is_none();
    let (methods, headers) = (draft.methods.take(), take(&mut draft.headers));
    let mut lists = [
        origins,
        methods.unwrap_or_default(),
        headers,
        take(&mut draft.expose),
    ];
    let max_age = draft.max_age.take().map(|(source, seconds)| {
        let clamped = seconds.clamp(0.0, 86400.0).floor();
        if clamped != seconds {
            let why = format!("max_age {seconds} is outside 0 to 86400 whole seconds; imported as {clamped} (browsers cap it lower anyway: Chromium at 7200)");
            draft.flag(Severity::Changed, &source, why);
        }
        serde_json::Number::from(clamped as u64)
    });
    let values = |items: &[Item]| items.iter().map(|i| i.value.clone()).collect::<Vec<_>>();
    let (credentials, private_network) = (draft.credentials.is_some(), draft.private_network);
    let policy = |lists: &[Vec<Item>; 4]| PolicyConfig {
        name: "imported".into(),
        r#match: Match::default(),
        allow_origins: values(&lists[0]),
        // Every method left out: the filter's default, which browsers allow anyway.
        allow_methods: (!default_methods && !lists[1].is_empty()).then(|| values(&lists[1])),
        allow_headers: values(&lists[2]),
        expose_headers: values(&lists[3]),
        allow_credentials: credentials,
        max_age: max_age.clone(),
        allow_private_network: private_network,
        disallowed: Default::default(),
    };
    // The engine names every item it refuses at once; each is flagged once,
    // in list order, then removed from the last so the positions hold.
    let mut refused = BTreeMap::new();
    let single = PluginConfig {
        policies: vec![policy(&lists)],
        ..PluginConfig::default()
    };
    let errors = Config::compile(&single).err();
    for error in errors.iter().flat_map(ConfigErrors::iter) {
        let why = error.problem().to_string();
        let item = match error.field().segments() {
            [Segment::Field(list), Segment::Index(index)] => LISTS
                .iter()
                .position(|l| l == list)
                .map(|list| (list, *index)),
            _ => None,
        };
        let Some(item) = item.filter(|(list, index)| *index < lists[*list].len()) else {
            let why = format!("the filter refuses the imported policy: {why}");
            draft.flag(Severity::Untranslatable, "", why);
            return None;
        };
        let severity = severity(error.problem());
        refused.entry(item).or_insert((severity, why));
    }
    for ((list, index), (severity, why)) in &refused {
        let item = &lists[*list][*index];
        let why = format!("\"{}\" is left out: {why}", item.value);
        draft.flag(*severity, &item.source, why);
    }
    for (list, index) in refused.keys().rev() {
        lists[*list].remove(*index);
    }
    (!lists[0].is_empty()).then(|| policy(&lists))
}

/// The lists of a policy, in the order `finish` keeps them.
const LISTS: [&str; 4] = [
    "allow_origins",
    "allow_methods",
    "allow_headers",
    "expose_headers",
];

/// How much it matters that the engine refuses an imported item.
fn severity(problem: &Problem) -> Severity {
    match problem {
        Problem::ForbiddenMethod
        | Problem::ForbiddenRequestHeader
        | Problem::ForbiddenResponseHeader => Severity::Ignored,
        Problem::CredentialsWithNullOrigin | Problem::CredentialsOverPlainHttp => {
            Severity::Insecure
        }
        Problem::CredentialsWithWildcard => Severity::Changed,
        _ => Severity::Untranslatable,
    }
}

/// Comma-separated header values (`"GET, POST"`), as Envoy writes lists.
pub fn split_list(source: &str, value: &str) -> Vec<Item> {
    let values = value.split(',').map(str::trim).filter(|v| !v.is_empty());
    let item = |(i, v): (usize, &str)| Item {
        source: format!("{source}[{i}]"),
        value: v.to_string(),
    };
    values.enumerate().map(item).collect()
}

/// A list of strings, each with its position.
pub fn string_items(draft: &mut Draft, source: &str, value: &Value) -> Vec<Item> {
    if !value.is_array() {
        draft.left_out(source, "is not a list of strings");
    }
    let mut items = Vec::new();
    for (i, entry) in list(value) {
        let source = format!("{source}[{i}]");
        match entry.as_str() {
            Some(value) => items.push(Item {
                source,
                value: value.to_string(),
            }),
            None => draft.left_out(&source, "is not a string"),
        }
    }
    items
}
