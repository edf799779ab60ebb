//! Istio's `VirtualService` `corsPolicy`: one `http` route's policy, and
//! that route's `uri` matches as `match.paths`.

use super::origins::{translate, Matcher};
use super::{string_items, Draft, Options, Severity, Source};
use serde_json::Value;

/// A route that carries a `corsPolicy`, with where it was found.
struct Route<'a> {
    path: String,
    name: Option<&'a str>,
    service: Option<&'a str>,
    hosts: Option<&'a Value>,
    route: Option<&'a Value>,
    policy: &'a Value,
}

pub fn read(documents: &[Value], options: &Options) -> Result<Draft, String> {
    let routes = routes(documents);
    if routes.is_empty() {
        return Err(
            "no Istio corsPolicy found: expected a VirtualService with spec.http[].corsPolicy, or a corsPolicy object".into(),
        );
    }
    let chosen = match options.route {
        None => 0,
        Some(wanted) => routes
            .iter()
            .enumerate()
            .position(|(i, r)| r.name == Some(wanted) || wanted.parse() == Ok(i))
            .ok_or_else(|| {
                format!(
                    "no route named or numbered \"{wanted}\" has a corsPolicy (found: {})",
                    routes
                        .iter()
                        .enumerate()
                        .map(|(i, r)| route_choice(i, r))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?,
    };
    let route = &routes[chosen];
    let name = options
        .name
        .or(route.name)
        .or(route.service)
        .unwrap_or("imported");
    let mut draft = Draft::new(Source::Istio, name.to_string());
    for (i, other) in routes.iter().enumerate().filter(|(i, _)| *i != chosen) {
        let service = other
            .service
            .map(|s| format!("VirtualService {s}: "))
            .unwrap_or_default();
        draft.flag(
            Severity::Ignored,
            &format!("{service}{}", other.path),
            format!(
                "another route with a corsPolicy; only one is imported (choose with --route {})",
                route_choice(i, other)
            ),
        );
    }
    if let Some(route_value) = route.route {
        scope(&mut draft, &route.path, route_value);
    }
    if let Some(hosts) = route.hosts.and_then(Value::as_array) {
        let hosts: Vec<&str> = hosts.iter().filter_map(Value::as_str).collect();
        if !hosts.is_empty() && hosts != ["*"] {
            draft.flag(
                Severity::Changed,
                "spec.hosts",
                format!(
                    "the VirtualService applies to {}; the policy applies wherever the plugin runs: add match.hosts if the plugin is shared",
                    hosts.join(", ")
                ),
            );
        }
    }
    cors_policy(
        &mut draft,
        &format!("{}corsPolicy", prefix(&route.path)),
        route.policy,
    );
    Ok(draft)
}

fn prefix(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!("{path}.")
    }
}

/// How `--route` names a route: its name, or else its position among the
/// file's routes that have a corsPolicy.
fn route_choice(index: usize, route: &Route) -> String {
    route.name.map_or_else(|| index.to_string(), str::to_string)
}

fn routes(documents: &[Value]) -> Vec<Route<'_>> {
    let mut routes = Vec::new();
    for document in documents {
        if document.get("allowOrigins").is_some() || document.get("allowOrigin").is_some() {
            routes.push(Route {
                path: String::new(),
                name: None,
                service: None,
                hosts: None,
                route: None,
                policy: document,
            });
            continue;
        }
        let Some(http) = document
            .get("spec")
            .and_then(|s| s.get("http"))
            .and_then(Value::as_array)
        else {
            continue;
        };
        for (i, route) in http.iter().enumerate() {
            if let Some(policy) = route.get("corsPolicy") {
                routes.push(Route {
                    path: format!("spec.http[{i}]"),
                    name: route.get("name").and_then(Value::as_str),
                    service: document
                        .get("metadata")
                        .and_then(|m| m.get("name"))
                        .and_then(Value::as_str),
                    hosts: document.get("spec").and_then(|s| s.get("hosts")),
                    route: Some(route),
                    policy,
                });
            }
        }
    }
    routes
}

/// The route's `match[].uri` as paths. A route that matches on more than
/// the URI applies more narrowly than the policy will: that is flagged.
fn scope(draft: &mut Draft, path: &str, route: &Value) {
    let Some(matches) = route.get("match").and_then(Value::as_array) else {
        return;
    };
    let mut paths = Vec::new();
    let mut any_path = false;
    for (i, condition) in matches.iter().enumerate() {
        let source = format!("{path}.match[{i}]");
        if let Some(fields) = condition.as_object() {
            for key in fields
                .keys()
                .filter(|k| !matches!(k.as_str(), "uri" | "name"))
            {
                draft.flag(
                    Severity::Changed,
                    &format!("{source}.{key}"),
                    "the route also matched on this; the policy matches on host and path only, so it applies more widely",
                );
            }
        }
        let uri = condition.get("uri");
        let exact = uri.and_then(|u| u.get("exact")).and_then(Value::as_str);
        let prefix = uri.and_then(|u| u.get("prefix")).and_then(Value::as_str);
        match (exact, prefix) {
            (Some(p), _) if p.starts_with('/') && !p.contains('*') => paths.push(p.to_string()),
            (None, Some(p)) if p.starts_with('/') && !p.contains('*') => {
                paths.push(format!("{p}*"))
            }
            (None, None) if uri.is_none() => any_path = true,
            _ => {
                draft.flag(
                    Severity::Changed,
                    &format!("{source}.uri"),
                    "this URI match has no match.paths equivalent (only exact paths and prefixes do); the policy applies to every path",
                );
                any_path = true;
            }
        }
    }
    if !any_path && !paths.is_empty() {
        draft.paths = Some(paths);
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
