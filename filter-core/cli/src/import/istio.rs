//! Istio's `VirtualService`: every `http` route becomes a route with the
//! service's `hosts` and the route's `match[].uri` as its scope, and its
//! `corsPolicy`, if any. A `corsPolicy` object alone is read too.

use super::origins::{translate, Matcher};
use super::scope::{self, PathMatch, Scope};
use super::{string_items, Draft, Route, Severity, Source};
use serde_json::Value;

/// Fields of a `match` entry that are not conditions.
const NOT_CONDITIONS: [&str; 4] = ["uri", "ignoreUriCase", "name", "statPrefix"];

pub fn read(documents: &[Value]) -> Result<Vec<Route>, String> {
    let mut routes = Vec::new();
    for document in documents {
        if document.get("allowOrigins").is_some() || document.get("allowOrigin").is_some() {
            let mut draft = Draft::new(Source::Istio);
            cors_policy(&mut draft, "", document);
            draft.flag(Severity::Changed, "corsPolicy", "a corsPolicy without its VirtualService: the policy applies to every host and path the plugin sees");
            routes.push(Route {
                source: String::new(),
                name: "imported".into(),
                scopes: vec![Scope::default()],
                cors: Some(draft),
                findings: Vec::new(),
            });
            continue;
        }
        let spec = document.get("spec");
        let Some(http) = spec.and_then(|s| s.get("http")).and_then(Value::as_array) else {
            continue;
        };
        let service = document
            .get("metadata")
            .and_then(|m| m.get("name"))
            .and_then(Value::as_str);
        // With several VirtualServices in the file, findings name theirs.
        let prefix = match service {
            Some(name) if documents.len() > 1 => format!("VirtualService {name}: spec."),
            _ => "spec.".to_string(),
        };
        let mut host_findings = Vec::new();
        let hosts = scope::hosts(
            &mut host_findings,
            &format!("{prefix}hosts"),
            spec.and_then(|s| s.get("hosts")),
        );
        for (i, route) in http.iter().enumerate() {
            let at = format!("{prefix}http[{i}]");
            let mut findings = host_findings.clone();
            let mut scope = Scope {
                hosts: hosts.clone(),
                ..Scope::default()
            };
            route_match(&mut scope, &mut findings, &at, route);
            let cors = route.get("corsPolicy").map(|policy| {
                let mut draft = Draft::new(Source::Istio);
                cors_policy(&mut draft, &format!("{at}.corsPolicy"), policy);
                draft
            });
            let name = route.get("name").and_then(Value::as_str).or(service);
            routes.push(Route {
                source: at,
                name: name.unwrap_or("imported").to_string(),
                scopes: vec![scope],
                cors,
                findings,
            });
        }
    }
    if routes.iter().all(|r| r.cors.is_none()) {
        return Err(
            "no Istio corsPolicy found: expected a VirtualService with spec.http[].corsPolicy, or a corsPolicy object".into(),
        );
    }
    Ok(routes)
}

fn prefix(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!("{path}.")
    }
}

/// The route's `match[].uri` as paths (the entries are alternatives); a
/// route that matches on more than the URI is flagged.
fn route_match(scope: &mut Scope, findings: &mut Vec<super::Finding>, at: &str, route: &Value) {
    let Some(matches) = route.get("match").and_then(Value::as_array) else {
        return;
    };
    let mut paths = Vec::new();
    let mut any_path = matches.is_empty();
    for (i, condition) in matches.iter().enumerate() {
        let source = format!("{at}.match[{i}]");
        for key in condition.as_object().into_iter().flatten().map(|(k, _)| k) {
            if !NOT_CONDITIONS.contains(&key.as_str()) {
                scope::lost_condition(findings, &format!("{source}.{key}"));
            }
        }
        scope.ignore_case = condition.get("ignoreUriCase") == Some(&Value::Bool(true));
        let uri = condition.get("uri");
        let get = |key| uri.and_then(|u| u.get(key)).and_then(Value::as_str);
        let path = match (get("exact"), get("prefix"), get("regex")) {
            (Some(p), _, _) => PathMatch::Exact(p),
            (_, Some(p), _) => PathMatch::Prefix(p),
            (_, _, Some(r)) => PathMatch::Regex(r),
            _ => {
                any_path = true;
                continue;
            }
        };
        match scope::path(findings, &format!("{source}.uri"), path) {
            Some(entries) => paths.extend(entries),
            None => any_path = true,
        }
    }
    if !any_path {
        scope.paths = paths;
    }
}

fn cors_policy(draft: &mut Draft, path: &str, policy: &Value) {
    let Some(fields) = policy.as_object() else {
        draft.flag(Severity::Untranslatable, path, "is not an object");
        return;
    };
    let mut forwards_unmatched_preflights = true;
    for (key, value) in fields {
        let source = format!("{}{key}", prefix(path));
        match key.as_str() {
            "allowOrigins" => {
                for (i, matcher) in value.as_array().into_iter().flatten().enumerate() {
                    string_match(draft, &format!("{source}[{i}]"), matcher);
                }
            }
            "allowOrigin" => {
                for item in string_items(draft, &source, value) {
                    translate(draft, &item.source, &Matcher::Exact(item.value), false);
                }
            }
            "allowMethods" => draft.methods = Some(string_items(draft, &source, value)),
            "allowHeaders" => draft.headers = string_items(draft, &source, value),
            "exposeHeaders" => draft.expose = string_items(draft, &source, value),
            "maxAge" => match value.as_str().map(duration_seconds) {
                Some(Some(seconds)) => draft.max_age = Some((source, seconds)),
                _ => draft.flag(
                    Severity::Untranslatable,
                    &source,
                    "is not a duration such as \"24h\" or \"600s\"; left out",
                ),
            },
            "allowCredentials" => match value.get("value").unwrap_or(value).as_bool() {
                Some(true) => draft.credentials = Some(source),
                Some(false) => {}
                None => draft.flag(
                    Severity::Untranslatable,
                    &source,
                    "is not true or false; left out",
                ),
            },
            "unmatchedPreflights" => {
                forwards_unmatched_preflights = value.as_str() != Some("IGNORE");
            }
            _ => draft.flag(Severity::Ignored, &source, "has no equivalent; left out"),
        }
    }
    if forwards_unmatched_preflights {
        draft.flag(
            Severity::Changed,
            &format!("{}unmatchedPreflights", prefix(path)),
            "Istio forwards preflights from origins it does not allow to the upstream (FORWARD, the default); the filter answers them 403 at the edge",
        );
    }
}

/// Istio's `StringMatch`: `exact`, `prefix` or `regex` (RE2, full match).
fn string_match(draft: &mut Draft, source: &str, matcher: &Value) {
    let get = |key: &str| matcher.get(key).and_then(Value::as_str).map(str::to_string);
    let parsed = if let Some(v) = get("exact") {
        Matcher::Exact(v)
    } else if let Some(v) = get("prefix") {
        Matcher::Prefix(v)
    } else if let Some(v) = get("regex") {
        Matcher::Regex(v)
    } else {
        draft.flag(
            Severity::Untranslatable,
            source,
            "is not an exact, prefix or regex match; left out",
        );
        return;
    };
    translate(draft, source, &parsed, false);
}

/// A Go or protobuf duration (`"24h"`, `"1h30m"`, `"600s"`, `"1.5s"`) in seconds.
fn duration_seconds(text: &str) -> Option<f64> {
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    let mut total = 0.0;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            "us" | "µs" => 0.000_001,
            "ns" => 0.000_000_001,
            _ => return None,
        };
        total += number * scale;
        rest = &rest[unit..];
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::duration_seconds;

    #[test]
    fn durations() {
        assert_eq!(duration_seconds("24h"), Some(86400.0));
        assert_eq!(duration_seconds("1h30m"), Some(5400.0));
        assert_eq!(duration_seconds("600s"), Some(600.0));
        assert_eq!(duration_seconds("1.5s"), Some(1.5));
        assert_eq!(duration_seconds("10"), None);
        assert_eq!(duration_seconds("1d"), None);
    }
}
