//! Envoy's CORS settings with the routes they apply to: every virtual host
//! (`domains`) and route (`match`) of a route configuration, bootstrap or
//! RDS file, with the `CorsPolicy` of its `typed_per_filter_config` (the
//! route's own, else its virtual host's). A `CorsPolicy` alone is read too.

use super::origins::{translate, Matcher};
use super::scope::{self, PathMatch, Scope};
use super::{split_list, Draft, Finding, Route, Severity, Source};
use serde_json::{Map, Value};

/// The fields that make an object a `CorsPolicy`.
const ORIGIN_FIELDS: [&str; 3] = [
    "allow_origin_string_match",
    "allow_origin",
    "allow_origin_regex",
];

/// Route match fields that are conditions a policy's `match` cannot carry.
const LOST_CONDITIONS: [&str; 8] = [
    "headers",
    "query_parameters",
    "grpc",
    "runtime_fraction",
    "dynamic_metadata",
    "filter_state",
    "tls_context",
    "path_match_policy",
];

pub fn read(documents: &[Value]) -> Result<Vec<Route>, String> {
    let mut routes = Vec::new();
    for document in documents {
        walk(&snake_case_keys(document), "", &mut routes);
    }
    if routes.iter().all(|r| r.cors.is_none()) {
        return Err(format!(
            "no Envoy CorsPolicy found: expected an object with {}",
            ORIGIN_FIELDS.join(", ")
        ));
    }
    Ok(routes)
}

fn is_policy(fields: &Map<String, Value>) -> bool {
    ORIGIN_FIELDS.iter().any(|f| fields.contains_key(*f))
}

/// Finds virtual hosts, and policies outside any, in document order.
fn walk(value: &Value, path: &str, routes: &mut Vec<Route>) {
    match value {
        Value::Object(fields) if fields.get("domains").is_some_and(Value::is_array) => {
            virtual_host(fields, path, routes)
        }
        Value::Object(fields) if is_policy(fields) => {
            let mut draft = policy(path, fields);
            draft.flag(
                Severity::Changed,
                path.trim_end_matches('.'),
                "a CorsPolicy outside any virtual host or route: the policy applies to every host and path the plugin sees",
            );
            routes.push(Route {
                source: path.trim_end_matches('.').to_string(),
                name: "imported".into(),
                scopes: vec![Scope::default()],
                cors: Some(draft),
                findings: Vec::new(),
            });
        }
        Value::Object(fields) => {
            for (key, child) in fields {
                walk(child, &format!("{path}{key}."), routes);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let path = path.strip_suffix('.').unwrap_or(path);
                walk(child, &format!("{path}[{i}]."), routes);
            }
        }
        _ => {}
    }
}

fn virtual_host(fields: &Map<String, Value>, path: &str, routes: &mut Vec<Route>) {
    let name = fields
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("imported");
    let mut host_findings = Vec::new();
    let host_scope = Scope {
        hosts: scope::hosts(
            &mut host_findings,
            &format!("{path}domains"),
            fields.get("domains"),
        ),
        ..Scope::default()
    };
    let own_policy = cors_of(fields, path).flatten();
    let list = fields
        .get("routes")
        .and_then(Value::as_array)
        .filter(|l| !l.is_empty());
    let Some(list) = list else {
        routes.push(Route {
            source: path.trim_end_matches('.').to_string(),
            name: name.to_string(),
            scopes: vec![host_scope],
            cors: own_policy.map(|(at, p)| policy(&at, p)),
            findings: host_findings,
        });
        return;
    };
    for (i, route) in list.iter().enumerate() {
        let at = format!("{path}routes[{i}].");
        let Some(route) = route.as_object() else {
            continue;
        };
        let mut findings = host_findings.clone();
        let mut scope = host_scope.clone();
        route_match(
            route.get("match"),
            &format!("{at}match."),
            &mut scope,
            &mut findings,
        );
        let cors = cors_of(route, &at).unwrap_or_else(|| own_policy.clone());
        routes.push(Route {
            source: at.trim_end_matches('.').to_string(),
            name: route
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or(name)
                .to_string(),
            scopes: vec![scope],
            cors: cors.map(|(at, p)| policy(&at, p)),
            findings,
        });
    }
}

/// The `CorsPolicy` a virtual host or route sets, with its path: in
/// `typed_per_filter_config` (possibly wrapped in a `FilterConfig`), or the
/// deprecated `cors` field. `Some(None)` when it turns CORS off there
/// (`filter_enabled` at 0%), `None` when it sets none.
type Policy<'a> = (String, &'a Map<String, Value>);

fn cors_of<'a>(fields: &'a Map<String, Value>, path: &str) -> Option<Option<Policy<'a>>> {
    let typed = fields
        .get("typed_per_filter_config")
        .and_then(Value::as_object);
    let typed = typed.into_iter().flatten().flat_map(|(key, config)| {
        let at = format!("{path}typed_per_filter_config.{key}.");
        [
            (format!("{at}config."), config.get("config")),
            (at, Some(config)),
        ]
    });
    let legacy = [
        (format!("{path}cors."), fields.get("cors")),
        (
            format!("{path}route.cors."),
            fields.get("route").and_then(|r| r.get("cors")),
        ),
    ];
    let is_cors = |c: &Map<String, Value>| {
        let kind = c.get("@type").and_then(Value::as_str).unwrap_or_default();
        is_policy(c) || kind.ends_with(".CorsPolicy")
    };
    let (at, policy) = typed
        .chain(legacy)
        .filter_map(|(at, c)| Some((at, c?.as_object()?)))
        .find(|(_, c)| is_cors(c))?;
    let off = policy.get("filter_enabled").and_then(percent) == Some(0);
    Some((!off).then_some((at, policy)))
}

/// The route's `match` as paths; conditions on more than the path are lost.
fn route_match(
    condition: Option<&Value>,
    at: &str,
    scope: &mut Scope,
    findings: &mut Vec<Finding>,
) {
    let Some(condition) = condition.and_then(Value::as_object) else {
        return;
    };
    for (key, value) in condition {
        let source = format!("{at}{key}");
        let text = value.as_str().unwrap_or_default();
        let path = match key.as_str() {
            "prefix" => PathMatch::Prefix(text),
            "path" => PathMatch::Exact(text),
            "path_separated_prefix" => PathMatch::Segments(text),
            "safe_regex" => PathMatch::Regex(
                value
                    .get("regex")
                    .and_then(Value::as_str)
                    .unwrap_or_default(),
            ),
            "case_sensitive" => {
                scope.ignore_case = value.get("value").unwrap_or(value) == &Value::Bool(false);
                continue;
            }
            key if LOST_CONDITIONS.contains(&key) && value != &Value::Array(Vec::new()) => {
                scope::lost_condition(findings, &source);
                continue;
            }
            _ => continue,
        };
        scope.paths = scope::path(findings, &source, path).unwrap_or_default();
    }
}

/// A `CorsPolicy` as a draft; `path` prefixes its fields in findings.
fn policy(path: &str, policy: &Map<String, Value>) -> Draft {
    let mut draft = Draft::new(Source::Envoy);
    let at = |field: &str| format!("{path}{field}");
    let mut forwards_unmatched_preflights = true;
    for (key, value) in policy {
        let source = at(key);
        match key.as_str() {
            "allow_origin_string_match" => {
                for (i, matcher) in value.as_array().into_iter().flatten().enumerate() {
                    string_matcher(&mut draft, &format!("{source}[{i}]"), matcher);
                }
            }
            "allow_origin" | "allow_origin_regex" => {
                for (i, entry) in value.as_array().into_iter().flatten().enumerate() {
                    let source = format!("{source}[{i}]");
                    let Some(entry) = entry.as_str() else {
                        draft.flag(Severity::Untranslatable, &source, "is not a string; left out");
                        continue;
                    };
                    let matcher = if key == "allow_origin" {
                        Matcher::Exact(entry.to_string())
                    } else {
                        Matcher::Regex(entry.to_string())
                    };
                    translate(&mut draft, &source, &matcher, false);
                }
            }
            "allow_methods" => draft.methods = text(&mut draft, &source, value).map(|v| split_list(&source, &v)),
            "allow_headers" => {
                draft.headers = text(&mut draft, &source, value)
                    .map(|v| split_list(&source, &v))
                    .unwrap_or_default();
            }
            "expose_headers" => {
                draft.expose = text(&mut draft, &source, value)
                    .map(|v| split_list(&source, &v))
                    .unwrap_or_default();
            }
            "max_age" => match text(&mut draft, &source, value).map(|v| v.trim().parse::<f64>()) {
                Some(Ok(seconds)) => draft.max_age = Some((source, seconds)),
                Some(Err(_)) => draft.flag(
                    Severity::Untranslatable,
                    &source,
                    "is not a number of seconds; left out",
                ),
                None => {}
            },
            "allow_credentials" => {
                if flag(&mut draft, &source, value) {
                    draft.credentials = Some(source);
                }
            }
            "allow_private_network_access" => draft.private_network = flag(&mut draft, &source, value),
            "forward_not_matching_preflights" => {
                forwards_unmatched_preflights = flag(&mut draft, &source, value);
            }
            "filter_enabled" if percent(value) == Some(100) => {}
            "filter_enabled" | "shadow_enabled" => draft.flag(
                Severity::Changed,
                &source,
                "runtime percentages have no equivalent: the filter applies the policy to every request (use \"mode\": \"shadow\" to only observe)",
            ),
            "@type" => {}
            _ => draft.flag(Severity::Ignored, &source, "has no equivalent; left out"),
        }
    }
    if forwards_unmatched_preflights {
        draft.flag(
            Severity::Changed,
            &at("forward_not_matching_preflights"),
            "Envoy forwards preflights from origins it does not allow to the upstream (the default); the filter answers them 403 at the edge",
        );
    }
    draft
}

fn string_matcher(draft: &mut Draft, source: &str, matcher: &Value) {
    let ignore_case = matcher.get("ignore_case").and_then(Value::as_bool) == Some(true);
    let get = |key: &str| matcher.get(key).and_then(Value::as_str).map(str::to_string);
    let parsed = if let Some(v) = get("exact") {
        Matcher::Exact(v)
    } else if let Some(v) = get("prefix") {
        Matcher::Prefix(v)
    } else if let Some(v) = get("suffix") {
        Matcher::Suffix(v)
    } else if let Some(v) = get("contains") {
        Matcher::Contains(v)
    } else if let Some(v) = matcher
        .get("safe_regex")
        .and_then(|r| r.get("regex"))
        .and_then(Value::as_str)
    {
        Matcher::Regex(v.to_string())
    } else {
        draft.flag(
            Severity::Untranslatable,
            source,
            "is not an exact, prefix, suffix, contains or safe_regex matcher; left out",
        );
        return;
    };
    translate(draft, source, &parsed, ignore_case);
}

/// A `RuntimeFractionalPercent`'s default as a percentage.
fn percent(value: &Value) -> Option<u64> {
    let fraction = value.get("default_value")?;
    let numerator = fraction
        .get("numerator")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let per = match fraction.get("denominator").and_then(Value::as_str) {
        Some("TEN_THOUSAND") => 100,
        Some("MILLION") => 10_000,
        _ => 1,
    };
    Some(numerator / per)
}

/// Envoy writes lists and numbers as strings (`"GET, POST"`, `"600"`).
fn text(draft: &mut Draft, source: &str, value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => {
            draft.flag(
                Severity::Untranslatable,
                source,
                "is not a string; left out",
            );
            None
        }
    }
}

/// A `BoolValue`: `true`, or `{"value": true}`.
fn flag(draft: &mut Draft, source: &str, value: &Value) -> bool {
    match value.get("value").unwrap_or(value) {
        Value::Bool(b) => *b,
        _ => {
            draft.flag(
                Severity::Untranslatable,
                source,
                "is not true or false; left out",
            );
            false
        }
    }
}

/// Protobuf JSON may spell fields in lowerCamelCase (`allowOriginStringMatch`).
fn snake_case_keys(value: &Value) -> Value {
    match value {
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| (snake_case(k), snake_case_keys(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(snake_case_keys).collect()),
        other => other.clone(),
    }
}

fn snake_case(key: &str) -> String {
    if key.starts_with('@') {
        return key.to_string();
    }
    let mut out = String::with_capacity(key.len() + 4);
    for c in key.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}
