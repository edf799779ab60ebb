//! Envoy's CORS settings with the routes they apply to: every virtual host
//! (`domains`) and route (`match`) of a route configuration, bootstrap or
//! RDS file, with the `CorsPolicy` of its `typed_per_filter_config` (the
//! route's own, else its virtual host's). A `CorsPolicy` alone is read too.

use super::origins::string_match;
use super::scope::{self, PathMatch};
use super::{list, split_list, walk, Draft, Finding, Route, Severity};
use filter_core::Match;
use serde_json::{Map, Value};

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

/// A `CorsPolicy` and the path of its fields in findings.
type Policy<'a> = (String, &'a Map<String, Value>);

pub fn read(documents: &[Value]) -> Vec<Route> {
    let mut routes = Vec::new();
    for document in documents {
        // Virtual hosts, and policies outside any.
        walk(&snake_case_keys(document), "", &mut |fields, path| {
            if fields.get("domains").is_some_and(Value::is_array) {
                virtual_host(fields, path, &mut routes);
            } else if is_policy(fields) {
                let draft = policy((path.to_string(), fields));
                routes.push(Route::everywhere(path.trim_end_matches('.'), None, draft));
            } else {
                return false;
            }
            true
        });
    }
    routes
}

fn is_policy(fields: &Map<String, Value>) -> bool {
    fields.contains_key("allow_origin_string_match")
}

fn virtual_host(fields: &Map<String, Value>, path: &str, routes: &mut Vec<Route>) {
    let name = fields.get("name").and_then(Value::as_str);
    let mut host_findings = Vec::new();
    let at = format!("{path}domains");
    let hosts = scope::hosts(&mut host_findings, &at, fields.get("domains"));
    let own_policy = cors_of(fields, path).flatten();
    let mut host_routes: Vec<(String, &Value)> = list(fields.get("routes"))
        .map(|(i, route)| (format!("{path}routes[{i}]."), route))
        .collect();
    // A virtual host without routes is one route, over all its paths.
    let no_route = Value::Object(Map::new());
    if host_routes.is_empty() {
        host_routes.push((path.to_string(), &no_route));
    }
    for (at, route) in host_routes {
        let Some(route) = route.as_object() else {
            continue;
        };
        let mut findings = host_findings.clone();
        let mut scope = Match {
            hosts: hosts.clone(),
            ..Match::default()
        };
        let match_at = format!("{at}match.");
        route_match(route.get("match"), &match_at, &mut scope, &mut findings);
        let cors = cors_of(route, &at).unwrap_or_else(|| own_policy.clone());
        routes.push(Route {
            source: at.trim_end_matches('.').to_string(),
            name: (route.get("name").and_then(Value::as_str).or(name))
                .unwrap_or("imported")
                .to_string(),
            scopes: vec![scope],
            cors: cors.map(policy),
            findings,
        });
    }
}

/// The `CorsPolicy` a virtual host or route sets: in
/// `typed_per_filter_config` (possibly wrapped in a `FilterConfig`), or the
/// deprecated `cors` field. `Some(None)` when it turns CORS off there
/// (`filter_enabled` at 0%), `None` when it sets none.
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
    let route_cors = fields.get("route").map(|r| &r["cors"]);
    let legacy = [
        (format!("{path}cors."), fields.get("cors")),
        (format!("{path}route.cors."), route_cors),
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
    scope: &mut Match,
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
            "safe_regex" => PathMatch::Regex(value["regex"].as_str().unwrap_or_default()),
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
        scope.paths = scope::path(findings, &source, path);
    }
}

/// A `CorsPolicy` as a draft.
fn policy((path, policy): Policy) -> Draft {
    let mut draft = Draft::new("Envoy");
    let mut forwards_unmatched_preflights = true;
    for (key, value) in policy {
        let source = format!("{path}{key}");
        // Envoy writes lists and numbers as strings (`"GET, POST"`, `"600"`).
        let text = match value {
            Value::Number(n) => Some(n.to_string()),
            value => value.as_str().map(str::to_string),
        };
        let items = text.as_deref().map(|text| split_list(&source, text));
        let seconds: Option<f64> = text.as_deref().and_then(|t| t.trim().parse().ok());
        // A `BoolValue`: `true`, or `{"value": true}`.
        let flag = value.get("value").unwrap_or(value).as_bool();
        match (key.as_str(), flag, items) {
            ("allow_origin_string_match", _, _) => {
                for (i, matcher) in list(value) {
                    string_match(&mut draft, &format!("{source}[{i}]"), matcher);
                }
            }
            ("allow_methods", _, Some(items)) => draft.methods = Some(items),
            ("allow_headers", _, Some(items)) => draft.headers = items,
            ("expose_headers", _, Some(items)) => draft.expose = items,
            ("max_age", _, _) if seconds.is_some() => draft.max_age = seconds.map(|s| (source, s)),
            ("allow_credentials", Some(true), _) => draft.credentials = Some(source),
            ("allow_private_network_access", Some(on), _) => draft.private_network = on,
            ("forward_not_matching_preflights", Some(on), _) => forwards_unmatched_preflights = on,
            ("allow_credentials", Some(false), _) | ("@type", _, _) => {}
            ("filter_enabled", _, _) if percent(value) == Some(100) => {}
            ("filter_enabled" | "shadow_enabled", _, _) => {
                let why = "runtime percentages have no equivalent: the filter applies the policy to every request (use \"mode\": \"shadow\" to only observe)";
                draft.flag(Severity::Changed, &source, why);
            }
            (
                "allow_methods"
                | "allow_headers"
                | "expose_headers"
                | "max_age"
                | "allow_credentials"
                | "allow_private_network_access"
                | "forward_not_matching_preflights",
                _,
                _,
            ) => draft.left_out(&source, "does not have the type Envoy reads"),
            _ => draft.flag(Severity::Ignored, &source, "has no equivalent; left out"),
        }
    }
    if forwards_unmatched_preflights {
        let why = "Envoy forwards preflights from origins it does not allow to the upstream (the default); the filter answers them 403 at the edge";
        let source = format!("{path}forward_not_matching_preflights");
        draft.flag(Severity::Changed, &source, why);
    }
    draft
}

/// A `RuntimeFractionalPercent`'s default as a percentage.
fn percent(value: &Value) -> Option<u64> {
    let fraction = value.get("default_value")?;
    let numerator = fraction["numerator"].as_u64().unwrap_or(0);
    let per = match fraction["denominator"].as_str() {
        Some("TEN_THOUSAND") => 100,
        Some("MILLION") => 10_000,
        _ => 1,
    };
    Some(numerator / per)
}

/// Protobuf JSON may spell fields in lowerCamelCase (`allowOriginStringMatch`).
fn snake_case_keys(value: &Value) -> Value {
    let snake_case = |key: &String| match key.starts_with('@') {
        true => key.clone(),
        false => key.chars().fold(String::new(), |mut out, c| {
            if c.is_ascii_uppercase() {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            out
        }),
    };
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
