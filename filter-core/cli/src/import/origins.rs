//! Envoy's `StringMatcher` and Istio's `StringMatch` on the `Origin`, and
//! origin regexes, as `allow_origins` entries. Envoy and Istio run Envoy's
//! CORS filter, which allows every origin when a matcher matches the text
//! `*`, and echoes the request's `Origin` rather than sending `*`.

use super::regex::{self, Anchoring};
use super::{Draft, Severity};
use serde_json::Value;

/// Adds the entries that mean the same as an Envoy `StringMatcher` or an
/// Istio `StringMatch`, or flags why none do.
pub fn string_match(draft: &mut Draft, source: &str, matcher: &Value) {
    let proxy = draft.proxy;
    let ignore_case = matcher.get("ignore_case") == Some(&Value::Bool(true));
    let safe_regex = matcher.get("safe_regex").and_then(|r| r.get("regex"));
    let kinds = ["exact", "prefix", "suffix", "contains", "regex"];
    let found = kinds.into_iter().find_map(|kind| {
        let value = if kind == "regex" {
            safe_regex.or(matcher.get(kind))
        } else {
            matcher.get(kind)
        };
        Some((kind, value?.as_str()?))
    });
    let Some((kind, value)) = found else {
        let why = "is not an exact, prefix, suffix, contains or regex matcher";
        return draft.left_out(source, why);
    };
    let what = format!("{kind} \"{value}\"");
    let folded = match ignore_case {
        true => value.to_ascii_lowercase(),
        false => value.to_string(),
    };
    match kind {
        "exact" if value == "*" => draft.origin(source, "*"),
        "prefix" | "suffix" | "contains" if value.is_empty() || value == "*" => {
            let why = format!("{what} matches every origin ({proxy} allows all origins when a matcher matches \"*\"); imported as \"*\"");
            draft.flag(Severity::Insecure, source, why);
            draft.origin(source, "*");
        }
        "exact" if value.contains('*') => {
            let why = format!("{what} is left out: {proxy} compared it as plain text, so it only matched that literal value, never a real origin; write the pattern you meant");
            draft.flag(Severity::Untranslatable, source, why);
        }
        "exact" => {
            if let Some(normal) = normalize(&folded).filter(|n| *n != folded) {
                let why = format!("{proxy} compared \"{value}\" byte for byte with the Origin, which browsers send as \"{normal}\", so it never matched; imported as \"{normal}\"");
                draft.flag(Severity::Changed, source, why);
            }
            draft.origin(source, folded);
        }
        "prefix" => prefix(draft, source, &folded, &what),
        "suffix" => suffix(draft, source, &folded, &what),
        "contains" => {
            let text = value.trim_matches(['.', ':', '/']);
            let why = format!("{what} is left out: any site can put that text in its own origin (e.g. \"https://{text}.evil.example\"), so no entry means the same");
            draft.flag(Severity::Untranslatable, source, why);
        }
        _ => {
            let pattern = if ignore_case {
                format!("(?i){value}")
            } else {
                value.to_string()
            };
            regex::import(draft, source, value, &pattern, Anchoring::Full)
        }
    }
}

/// A prefix is an origin followed by anything: `https://app.example.com`
/// also matches `https://app.example.com.evil.net`. On a loopback host the
/// point is any port of a local dev server: `http://localhost:*`.
fn prefix(draft: &mut Draft, source: &str, value: &str, what: &str) {
    let any_port = value.ends_with(':');
    let Some(origin) = normalize(value.trim_end_matches(':')).filter(|n| !n.contains('*')) else {
        let why = format!("{what} is left out: it matches every origin that starts that way (e.g. \"{value}evil.net\"), which no entry can say");
        return draft.flag(Severity::Untranslatable, source, why);
    };
    let host = origin.split_once("://").map_or("", |(_, host)| host);
    let also = format!("{what} also matches \"{value}.evil.net\": a prefix is not an origin.");
    if any_port || ["localhost", "127.0.0.1", "[::1]"].contains(&host) {
        let (severity, also) = match any_port {
            true => (Severity::Changed, ""),
            false => (Severity::Insecure, also.as_str()),
        };
        let why = format!("{also} It means any port of {origin}: imported as \"{origin}:*\", which also allows no port");
        draft.flag(severity, source, why.trim_start());
        draft.origin(source, format!("{origin}:*"));
    } else {
        let why = format!("{also} Imported as the exact origin \"{origin}\"");
        draft.flag(Severity::Insecure, source, why);
        draft.origin(source, origin);
    }
}

/// A suffix is matched on the whole origin, scheme included:
/// `.example.com` allows `http://a.example.com`, and `example.com` allows
/// `https://evilexample.com`.
fn suffix(draft: &mut Draft, source: &str, value: &str, what: &str) {
    let proxy = draft.proxy;
    if value.contains("://") {
        return draft.origin(source, value);
    }
    let (host, port) = match value.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => {
            (host, format!(":{port}"))
        }
        _ => (value, String::new()),
    };
    if let Some(domain) = host.strip_prefix('.') {
        let why = format!("{what} matched subdomains of {domain} over any scheme, plain http included; imported for https only as \"https://*.{domain}{port}\"");
        draft.flag(Severity::Changed, source, why);
        draft.origin(source, format!("https://*.{domain}{port}"));
    } else if !host.is_empty() && !host.contains(['/', '*']) {
        let why = format!("{what} also matches \"https://evil{host}{port}\" (and plain http): {proxy} compares the end of the text, not whole labels. Imported as \"https://{host}{port}\" and \"https://*.{host}{port}\"");
        draft.flag(Severity::Insecure, source, why);
        draft.origin(source, format!("https://{host}{port}"));
        draft.origin(source, format!("https://*.{host}{port}"));
    } else {
        let why = format!("{what} is left out: no entry means the same");
        draft.flag(Severity::Untranslatable, source, why);
    }
}

/// An `allow_origins` entry as the engine reads it, when it accepts it.
fn normalize(entry: &str) -> Option<String> {
    filter_core::normalize_origin_entry(entry).ok()
}
