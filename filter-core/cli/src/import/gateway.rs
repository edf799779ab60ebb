//! Gateway API's `HTTPRoute` with a `CORS` filter (`HTTPCORSFilter`): every
//! rule becomes a route, each of its `matches` a scope with the route's
//! `hostnames`, since Gateway API ranks each match on its own (exact paths,
//! then the longest prefix).

use super::scope::{self, PathMatch};
use super::{list, string_items, Draft, Route, Severity};
use filter_core::Match;
use serde_json::Value;

/// Match fields that are conditions a policy's `match` cannot carry.
const LOST_CONDITIONS: [&str; 3] = ["headers", "queryParams", "method"];

pub fn read(documents: &[Value]) -> Vec<Route> {
    let mut routes = Vec::new();
    let http_routes = documents
        .iter()
        .filter(|d| d.get("kind") == Some(&Value::from("HTTPRoute")));
    for document in http_routes {
        let name = document["metadata"]["name"].as_str().unwrap_or("imported");
        // With several HTTPRoutes in the file, findings name theirs.
        let prefix = match documents.len() {
            1 => "spec.".to_string(),
            _ => format!("HTTPRoute {name}: spec."),
        };
        let spec = &document["spec"];
        let mut host_findings = Vec::new();
        let at = format!("{prefix}hostnames");
        let hosts = scope::hosts(&mut host_findings, &at, &spec["hostnames"]);
        for (r, rule) in list(&spec["rules"]) {
            let at = format!("{prefix}rules[{r}]");
            let mut findings = host_findings.clone();
            let mut scopes = Vec::new();
            for (m, condition) in list(rule.get("matches")) {
                let at = format!("{at}.matches[{m}]");
                for key in LOST_CONDITIONS
                    .into_iter()
                    .filter(|k| condition.get(k).is_some())
                {
                    scope::lost_condition(&mut findings, &format!("{at}.{key}"));
                }
                // `PathPrefix /` when left out.
                let path = |key: &str| condition["path"][key].as_str();
                let value = path("value").unwrap_or("/");
                let condition = match path("type") {
                    Some("Exact") => PathMatch::Exact(value),
                    Some("RegularExpression") => PathMatch::Regex(value),
                    _ => PathMatch::Segments(value),
                };
                let paths = scope::path(&mut findings, &format!("{at}.path"), condition);
                scopes.push(Match {
                    hosts: hosts.clone(),
                    paths,
                    ignore_case: false,
                });
            }
            if scopes.is_empty() {
                scopes.push(Match {
                    hosts: hosts.clone(),
                    ..Match::default()
                });
            }
            let cors = list(rule.get("filters"))
                .filter(|(_, f)| f.get("type") == Some(&Value::from("CORS")))
                .find_map(|(f, filter)| {
                    Some(cors_filter(
                        &format!("{at}.filters[{f}].cors"),
                        filter.get("cors")?,
                    ))
                });
            let rule_name = rule.get("name").and_then(Value::as_str);
            let name = rule_name.map_or(name.to_string(), |rule| format!("{name}-{rule}"));
            routes.push(Route {
                source: at,
                name,
                scopes,
                cors,
                findings,
            });
        }
    }
    routes
}

fn cors_filter(at: &str, cors: &Value) -> Draft {
    let mut draft = Draft::new("Gateway API");
    // Gateway API sends `Access-Control-Max-Age: 5` when `maxAge` is left out.
    draft.max_age = Some((format!("{at}.maxAge"), 5.0));
    for (key, value) in cors.as_object().into_iter().flatten() {
        let source = format!("{at}.{key}");
        match key.as_str() {
            "allowOrigins" => {
                for item in string_items(&mut draft, &source, value) {
                    origin(&mut draft, &item.source, &item.value);
                }
            }
            "allowMethods" => draft.methods = Some(string_items(&mut draft, &source, value)),
            "allowHeaders" => draft.headers = string_items(&mut draft, &source, value),
            "exposeHeaders" => draft.expose = string_items(&mut draft, &source, value),
            "allowCredentials" if value == &Value::Bool(true) => draft.credentials = Some(source),
            "allowCredentials" => {}
            "maxAge" => draft.max_age = value.as_f64().map(|seconds| (source, seconds)),
            _ => draft.flag(Severity::Ignored, &source, "has no equivalent; left out"),
        }
    }
    draft
}

/// `scheme://host[:port]`, where a leading `*` in the host stands for any
/// labels to its left: `https://*.example.com` reads the same here.
fn origin(draft: &mut Draft, source: &str, value: &str) {
    let host = value.split_once("://").map_or(value, |(_, rest)| rest);
    let subdomains = host
        .strip_prefix("*.")
        .is_some_and(|rest| !rest.contains('*'));
    if value == "*" || !host.contains('*') || subdomains {
        return draft.origin(source, value);
    }
    let example = value.replacen('*', "evil", 1);
    let why = format!("\"{value}\" is left out: Gateway API lets its \"*\" take any text to its left, dots included (e.g. \"{example}\"), which no entry can say");
    draft.flag(Severity::Insecure, source, why);
}
