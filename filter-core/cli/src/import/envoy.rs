//! Envoy's `CorsPolicy` (`envoy.config.route.v3.CorsPolicy`, or the
//! `envoy.extensions.filters.http.cors.v3.CorsPolicy` of
//! `typed_per_filter_config`), found anywhere in a YAML or JSON file: a
//! bare policy, a route, a virtual host or a whole bootstrap.

use super::origins::{translate, Matcher};
use super::{split_list, Draft, Options, Severity, Source};
use serde_json::{Map, Value};

/// The fields that make an object a `CorsPolicy`.
const ORIGIN_FIELDS: [&str; 3] = [
    "allow_origin_string_match",
    "allow_origin",
    "allow_origin_regex",
];

pub fn read(documents: &[Value], options: &Options) -> Result<Draft, String> {
    let mut found = Vec::new();
    for document in documents {
        find_policies(&snake_case_keys(document), "", &mut found);
    }
    let mut found = found.into_iter();
    let Some((path, policy)) = found.next() else {
        return Err(format!(
            "no Envoy CorsPolicy found: expected an object with {}",
            ORIGIN_FIELDS.join(", ")
        ));
    };
    let mut draft = Draft::new(Source::Envoy, options.name.unwrap_or("imported").into());
    let at = |field: &str| format!("{path}{field}");
    for (other, _) in found {
        draft.flag(
            Severity::Ignored,
            &other,
            "another CorsPolicy in the file; only the first is imported (split the file to import it)",
        );
    }
    let mut forwards_unmatched_preflights = true;
    for (key, value) in &policy {
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
    Ok(draft)
}

/// Every `CorsPolicy` under `value`, with its path, in document order.
fn find_policies(value: &Value, path: &str, found: &mut Vec<(String, Map<String, Value>)>) {
    match value {
        Value::Object(fields) if ORIGIN_FIELDS.iter().any(|f| fields.contains_key(*f)) => {
            found.push((path.to_string(), fields.clone()));
        }
        Value::Object(fields) => {
            for (key, child) in fields {
                find_policies(child, &format!("{path}{key}."), found);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let path = path.strip_suffix('.').unwrap_or(path);
                find_policies(child, &format!("{path}[{i}]."), found);
            }
        }
        _ => {}
    }
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
