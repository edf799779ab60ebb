//! Gateway API's `HTTPRoute` with a `CORS` filter (`HTTPCORSFilter`): every
//! rule becomes a route, each of its `matches` a scope with the route's
//! `hostnames`, since Gateway API ranks each match on its own (exact paths,
//! then the longest prefix).

use super::scope::{self, PathMatch, Scope};
use super::{string_items, Draft, Finding, Route, Severity, Source};
use serde_json::Value;

/// Match fields that are conditions a policy's `match` cannot carry.
const LOST_CONDITIONS: [&str; 3] = ["headers", "queryParams", "method"];

pub fn read(documents: &[Value]) -> Result<Vec<Route>, String> {
    let mut routes = Vec::new();
    let http_routes = documents
        .iter()
        .filter(|d| d.get("kind") == Some(&Value::from("HTTPRoute")));
    for document in http_routes {
        let name = document
            .get("metadata")
            .and_then(|m| m.get("name"))
            .and_then(Value::as_str)
            .unwrap_or("imported");
        // With several HTTPRoutes in the file, findings name theirs.
        let prefix = match documents.len() {
            1 => "spec.".to_string(),
            _ => format!("HTTPRoute {name}: spec."),
        };
        let spec = document.get("spec");
        let mut host_findings = Vec::new();
        let hostnames = spec.and_then(|s| s.get("hostnames"));
        let hosts = scope::hosts(&mut host_findings, &format!("{prefix}hostnames"), hostnames);
        let rules = spec
            .and_then(|s| s.get("rules"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten();
        for (r, rule) in rules.enumerate() {
            let at = format!("{prefix}rules[{r}]");
            let mut findings = host_findings.clone();
            let host_scope = Scope {
                hosts: hosts.clone(),
                ..Scope::default()
            };
            let matches = rule
                .get("matches")
                .and_then(Value::as_array)
                .filter(|m| !m.is_empty());
            let scopes = match matches {
                None => vec![host_scope],
                Some(matches) => matches
                    .iter()
                    .enumerate()
                    .map(|(m, condition)| {
                        path_match(
                            &host_scope,
                            &mut findings,
                            &format!("{at}.matches[{m}]"),
                            condition,
                        )
                    })
                    .collect(),
            };
            let filters = rule
                .get("filters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate();
            let cors = filters
                .filter(|(_, f)| f.get("type") == Some(&Value::from("CORS")))
                .find_map(|(f, filter)| {
                    Some((format!("{at}.filters[{f}].cors"), filter.get("cors")?))
                });
            let rule_name = rule.get("name").and_then(Value::as_str);
            routes.push(Route {
                source: at,
                name: rule_name.map_or(name.to_string(), |rule| format!("{name}-{rule}")),
                scopes,
                cors: cors.map(|(at, cors)| cors_filter(&at, cors)),
                findings,
            });
        }
    }
    if routes.iter().all(|r| r.cors.is_none()) {
        return Err("no Gateway API CORS filter found: expected an HTTPRoute with a rule's filters[] entry of type CORS".into());
    }
    Ok(routes)
}

/// One `HTTPRouteMatch`: its path (`PathPrefix /` when left out) within the
/// route's hostnames; headers, query parameters and method are lost.
fn path_match(hosts: &Scope, findings: &mut Vec<Finding>, at: &str, condition: &Value) -> Scope {
    for key in LOST_CONDITIONS {
        if condition.get(key).is_some() {
            scope::lost_condition(findings, &format!("{at}.{key}"));
        }
    }
    let path = condition.get("path");
    let value = path
        .and_then(|p| p.get("value"))
        .and_then(Value::as_str)
        .unwrap_or("/");
    let kind = path
        .and_then(|p| p.get("type"))
        .and_then(Value::as_str)
        .unwrap_or("PathPrefix");
    let condition = match kind {
        "Exact" => PathMatch::Exact(value),
        "RegularExpression" => PathMatch::Regex(value),
        _ => PathMatch::Segments(value),
    };
    Scope {
        paths: scope::path(findings, &format!("{at}.path"), condition).unwrap_or_default(),
        ..hosts.clone()
    }
}

fn cors_filter(at: &str, cors: &Value) -> Draft {
    let mut draft = Draft::new(Source::GatewayApi);
    let Some(fields) = cors.as_object() else {
        draft.flag(Severity::Untranslatable, at, "is not an object");
        return draft;
    };
    for (key, value) in fields {
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
            "maxAge" => match value.as_f64() {
                Some(seconds) => draft.max_age = Some((source, seconds)),
                None => draft.flag(
                    Severity::Untranslatable,
                    &source,
                    "is not a number; left out",
                ),
            },
            _ => draft.flag(Severity::Ignored, &source, "has no equivalent; left out"),
        }
    }
    if draft.max_age.is_none() {
        draft.max_age = Some((format!("{at}.maxAge"), 5.0));
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
    draft.flag(
        Severity::Insecure,
        source,
        format!("\"{value}\" is left out: Gateway API lets its \"*\" take any text to its left, dots included (e.g. \"{}\"), which no entry can say", value.replacen('*', "evil", 1)),
    );
}
