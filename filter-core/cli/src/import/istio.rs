//! Istio's `VirtualService`: every `http` route becomes a route with the
//! service's `hosts` and the route's `match[].uri` as its scope, and its
//! `corsPolicy`, if any. A `corsPolicy` object alone is read too.

use super::origins::string_match;
use super::scope::{self, PathMatch};
use super::{list, string_items, Draft, Finding, Route, Severity};
use filter_core::Match;
use regex::Regex;
use serde_json::Value;

/// Fields of a `match` entry that are not conditions.
const NOT_CONDITIONS: [&str; 4] = ["uri", "ignoreUriCase", "name", "statPrefix"];

pub fn read(documents: &[Value]) -> Vec<Route> {
    let mut routes = Vec::new();
    for document in documents {
        if document.get("allowOrigins").is_some() {
            routes.push(Route::everywhere("", None, cors_policy("", document)));
            continue;
        }
        let Some(http) = document["spec"]["http"].as_array() else {
            continue;
        };
        let service = document["metadata"]["name"].as_str();
        // With several VirtualServices in the file, findings name theirs.
        let prefix = match service {
            Some(name) if documents.len() > 1 => format!("VirtualService {name}: spec."),
            _ => "spec.".to_string(),
        };
        let mut host_findings = Vec::new();
        let at = format!("{prefix}hosts");
        let hosts = scope::hosts(&mut host_findings, &at, &document["spec"]["hosts"]);
        for (i, route) in http.iter().enumerate() {
            let at = format!("{prefix}http[{i}]");
            let mut findings = host_findings.clone();
            let mut scope = Match {
                hosts: hosts.clone(),
                ..Match::default()
            };
            route_match(&mut scope, &mut findings, &at, route);
            let cors = route
                .get("corsPolicy")
                .map(|p| cors_policy(&format!("{at}.corsPolicy."), p));
            let name = route.get("name").and_then(Value::as_str).or(service);
            let name = name.unwrap_or("imported").to_string();
            routes.push(Route {
                source: at,
                name,
                scopes: vec![scope],
                cors,
                findings,
            });
        }
    }
    routes
}

/// The route's `match[].uri` as paths (the entries are alternatives); a
/// route that matches on more than the URI is flagged.
fn route_match(scope: &mut Match, findings: &mut Vec<Finding>, at: &str, route: &Value) {
    let mut paths = Vec::new();
    let mut any_path = false;
    for (i, condition) in list(route.get("match")) {
        let source = format!("{at}.match[{i}]");
        for key in condition.as_object().into_iter().flat_map(|c| c.keys()) {
            if !NOT_CONDITIONS.contains(&key.as_str()) {
                scope::lost_condition(findings, &format!("{source}.{key}"));
            }
        }
        scope.ignore_case = condition.get("ignoreUriCase") == Some(&Value::Bool(true));
        let uri = |key: &str| condition["uri"][key].as_str();
        let path = match (uri("exact"), uri("prefix"), uri("regex")) {
            (Some(p), _, _) => PathMatch::Exact(p),
            (_, Some(p), _) => PathMatch::Prefix(p),
            (_, _, Some(r)) => PathMatch::Regex(r),
            _ => PathMatch::Prefix("/"),
        };
        match scope::path(findings, &format!("{source}.uri"), path) {
            Some(entries) => paths.extend(entries),
            None => any_path = true,
        }
    }
    scope.paths = (!any_path && !paths.is_empty()).then_some(paths);
}

/// A `corsPolicy` as a draft; `path` prefixes its fields in findings.
fn cors_policy(path: &str, policy: &Value) -> Draft {
    let mut draft = Draft::new("Istio");
    let mut forwards_unmatched_preflights = true;
    for (key, value) in policy.as_object().into_iter().flatten() {
        let source = format!("{path}{key}");
        match key.as_str() {
            "allowOrigins" => {
                for (i, matcher) in list(value) {
                    string_match(&mut draft, &format!("{source}[{i}]"), matcher);
                }
            }
            "allowMethods" => draft.methods = Some(string_items(&mut draft, &source, value)),
            "allowHeaders" => draft.headers = string_items(&mut draft, &source, value),
            "exposeHeaders" => draft.expose = string_items(&mut draft, &source, value),
            "maxAge" => match value.as_str().and_then(duration_seconds) {
                Some(seconds) => draft.max_age = Some((source, seconds)),
                None => draft.left_out(&source, "is not a duration such as \"24h\" or \"600s\""),
            },
            "allowCredentials" => match value.get("value").unwrap_or(value).as_bool() {
                Some(true) => draft.credentials = Some(source),
                Some(false) => {}
                None => draft.left_out(&source, "is not true or false"),
            },
            "unmatchedPreflights" => {
                forwards_unmatched_preflights = value.as_str() != Some("IGNORE")
            }
            _ => draft.flag(Severity::Ignored, &source, "has no equivalent; left out"),
        }
    }
    if forwards_unmatched_preflights {
        let why = "Istio forwards preflights from origins it does not allow to the upstream (FORWARD, the default); the filter answers them 403 at the edge";
        let source = format!("{path}unmatchedPreflights");
        draft.flag(Severity::Changed, &source, why);
    }
    draft
}

/// A Go or protobuf duration (`"24h"`, `"1h30m"`, `"600s"`, `"1.5s"`) in seconds.
fn duration_seconds(text: &str) -> Option<f64> {
    let part = r"([0-9]+\.?[0-9]*|\.[0-9]+)(h|ms|m|s)";
    let text = text.trim();
    if !Regex::new(&format!("^(?:{part})+$")).ok()?.is_match(text) {
        return None;
    }
    let scale = |unit: &str| match unit {
        "h" => 3600.0,
        "m" => 60.0,
        "s" => 1.0,
        _ => 0.001,
    };
    (Regex::new(part).ok()?.captures_iter(text))
        .map(|c| Some(c.get(1)?.as_str().parse::<f64>().ok()? * scale(c.get(2)?.as_str())))
        .sum()
}
