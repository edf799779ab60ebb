//! Envoy's `StringMatcher` and Istio's `StringMatch` on the `Origin`, as
//! `allow_origins` entries. Both proxies run Envoy's CORS filter, which
//! allows every origin when a matcher matches the text `*`, and echoes the
//! request's `Origin` rather than sending `*`.

use super::regex::{Anchoring, Refusal, SourceRegex, Translation};
use super::{Draft, Severity};
use filter_core::normalize_origin_entry;

/// One origin matcher of the source.
#[derive(Debug)]
pub enum Matcher {
    Exact(String),
    Prefix(String),
    Suffix(String),
    Contains(String),
    Regex(String),
}

impl Matcher {
    fn describe(&self) -> String {
        let (kind, value) = match self {
            Matcher::Exact(v) => ("exact", v),
            Matcher::Prefix(v) => ("prefix", v),
            Matcher::Suffix(v) => ("suffix", v),
            Matcher::Contains(v) => ("contains", v),
            Matcher::Regex(v) => ("regex", v),
        };
        format!("{kind} \"{value}\"")
    }
}

/// Adds the entries that mean the same as `matcher`, or flags why none do.
pub fn translate(draft: &mut Draft, source: &str, matcher: &Matcher, ignore_case: bool) {
    let proxy = draft.proxy;
    let what = matcher.describe();
    let fold = |v: &str| {
        if ignore_case {
            v.to_ascii_lowercase()
        } else {
            v.to_string()
        }
    };
    let any = |v: &str| v.is_empty() || v == "*";
    match matcher {
        Matcher::Exact(v) if v == "*" => draft.origin(source, "*"),
        Matcher::Prefix(v) | Matcher::Suffix(v) | Matcher::Contains(v) if any(v) => {
            draft.flag(
                Severity::Insecure,
                source,
                format!("{what} matches every origin ({proxy} allows all origins when a matcher matches \"*\"); imported as \"*\""),
            );
            draft.origin(source, "*");
        }
        Matcher::Exact(v) => exact(draft, source, &fold(v), ignore_case),
        Matcher::Prefix(v) => prefix(draft, source, &fold(v), &what),
        Matcher::Suffix(v) => suffix(draft, source, &fold(v), &what),
        Matcher::Contains(v) => draft.flag(
            Severity::Untranslatable,
            source,
            format!(
                "{what} is left out: any site can put that text in its own origin (e.g. \"https://{}.evil.example\"), so no entry means the same",
                v.trim_matches(['.', ':', '/'])
            ),
        ),
        Matcher::Regex(pattern) if ignore_case => {
            regex(draft, source, pattern, &format!("(?i){pattern}"), Anchoring::Full)
        }
        Matcher::Regex(pattern) => regex(draft, source, pattern, pattern, Anchoring::Full),
    }
}

fn exact(draft: &mut Draft, source: &str, value: &str, ignore_case: bool) {
    let proxy = draft.proxy;
    if value.contains('*') {
        draft.flag(
            Severity::Untranslatable,
            source,
            format!("exact \"{value}\" is left out: {proxy} compared it as plain text, so it only matched that literal value, never a real origin; write the pattern you meant"),
        );
        return;
    }
    if let Ok(normalized) = normalize_origin_entry(value) {
        if normalized != value && !(ignore_case && normalized == value.to_ascii_lowercase()) {
            draft.flag(
                Severity::Changed,
                source,
                format!("{proxy} compared \"{value}\" byte for byte with the Origin, which browsers send as \"{normalized}\", so it never matched; imported as \"{normalized}\""),
            );
        }
    }
    draft.origin(source, value);
}

/// A prefix is an origin followed by anything: `https://app.example.com`
/// also matches `https://app.example.com.evil.net`. On a loopback host the
/// point is any port of a local dev server: `http://localhost:*`.
fn prefix(draft: &mut Draft, source: &str, value: &str, what: &str) {
    let origin = value.strip_suffix(':').unwrap_or(value);
    let normalized = normalize_origin_entry(origin)
        .ok()
        .filter(|n| !n.contains('*'));
    let Some(normalized) = normalized else {
        return draft.flag(
            Severity::Untranslatable,
            source,
            format!("{what} is left out: it matches every origin that starts that way (e.g. \"{value}evil.net\"), which no entry can say"),
        );
    };
    let host = normalized.split_once("://").map_or("", |(_, rest)| rest);
    let loopback = ["localhost", "127.0.0.1", "[::1]"].contains(&host);
    if value.ends_with(':') || loopback {
        let (severity, also) = match value.ends_with(':') {
            true => (Severity::Changed, String::new()),
            false => (
                Severity::Insecure,
                format!(" It also matched \"{value}.evil.net\"."),
            ),
        };
        draft.flag(severity, source, format!("{what} means any port of {normalized}; imported as \"{normalized}:*\", which also allows no port.{also}"));
        draft.origin(source, format!("{normalized}:*"));
    } else {
        draft.flag(
            Severity::Insecure,
            source,
            format!("{what} also matches \"{value}.evil.net\" and \"{value}:8443\": a prefix is not an origin. Imported as the exact origin \"{normalized}\""),
        );
        draft.origin(source, normalized);
    }
}

/// A suffix is matched on the whole origin, scheme included:
/// `.example.com` allows `http://a.example.com`, and `example.com` allows
/// `https://evilexample.com`.
fn suffix(draft: &mut Draft, source: &str, value: &str, what: &str) {
    let proxy = draft.proxy;
    if value.contains("://") {
        draft.origin(source, value);
        return;
    }
    let (host, port) = match value.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => {
            (host, format!(":{port}"))
        }
        _ => (value, String::new()),
    };
    if let Some(domain) = host.strip_prefix('.') {
        draft.flag(
            Severity::Changed,
            source,
            format!("{what} matched subdomains of {domain} over any scheme, plain http included; imported for https only as \"https://*.{domain}{port}\""),
        );
        draft.origin(source, format!("https://*.{domain}{port}"));
    } else if !host.is_empty() && !host.contains(['/', '*']) {
        draft.flag(
            Severity::Insecure,
            source,
            format!("{what} also matches \"https://evil{host}{port}\" (and plain http): {proxy} compares the end of the text, not whole labels. Imported as \"https://{host}{port}\" and \"https://*.{host}{port}\""),
        );
        draft.origin(source, format!("https://{host}{port}"));
        draft.origin(source, format!("https://*.{host}{port}"));
    } else {
        draft.flag(
            Severity::Untranslatable,
            source,
            format!("{what} is left out: no entry means the same"),
        );
    }
}

/// A regex as entries. `shown` is the regex as the user wrote it, for
/// findings; `pattern` what the source runs.
pub fn regex(draft: &mut Draft, source: &str, shown: &str, pattern: &str, anchoring: Anchoring) {
    let proxy = draft.proxy;
    let translated = SourceRegex::parse(pattern, anchoring).map_err(|why| Refusal {
        message: why,
        over_broad: false,
    });
    let translated = translated.and_then(|regex| match regex.is_match("*") {
        // Envoy's filter allows every origin when a matcher matches "*".
        true if anchoring == Anchoring::Full => {
            let why = format!("regex \"{shown}\" matches the text \"*\", which {proxy} takes as allowing every origin; imported as \"*\"");
            draft.flag(Severity::Insecure, source, why);
            Ok(Translation { entries: vec!["*".into()], widens: None })
        }
        _ => regex.translate(),
    });
    match translated {
        Ok(translation) => {
            if let Some(widens) = translation.widens {
                let why =
                    format!("regex \"{shown}\" is imported as a glob that allows more: {widens}");
                draft.flag(Severity::Widening, source, why);
            }
            for entry in translation.entries {
                draft.origin(source, entry);
            }
        }
        Err(refusal) => {
            let severity = match refusal.over_broad {
                true => Severity::Insecure,
                false => Severity::Untranslatable,
            };
            let why = format!("regex \"{shown}\" is left out: it {}", refusal.message);
            draft.flag(severity, source, why);
        }
    }
}
