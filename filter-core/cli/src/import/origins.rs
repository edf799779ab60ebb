//! Envoy's `StringMatcher` and Istio's `StringMatch` on the `Origin`, as
//! `allow_origins` entries. Both proxies run Envoy's CORS filter, which
//! allows every origin when a matcher matches the text `*`, and echoes the
//! request's `Origin` rather than sending `*`.

use super::regex::{Anchoring, SourceRegex, Subject};
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
        Matcher::Regex(pattern) => regex(draft, source, pattern, ignore_case),
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
/// also matches `https://app.example.com.evil.net`.
fn prefix(draft: &mut Draft, source: &str, value: &str, what: &str) {
    if let Some(origin) = value.strip_suffix(':') {
        if normalize_origin_entry(origin).is_ok_and(|n| !n.contains('*')) {
            draft.flag(
                Severity::Changed,
                source,
                format!("{what} means any port of {origin}; imported as \"{origin}:*\", which also allows no port"),
            );
            draft.origin(source, format!("{origin}:*"));
            return;
        }
    }
    match normalize_origin_entry(value) {
        Ok(origin) if !origin.contains('*') => {
            draft.flag(
                Severity::Insecure,
                source,
                format!("{what} also matches \"{value}.evil.net\" and \"{value}:8443\": a prefix is not an origin. Imported as the exact origin \"{origin}\""),
            );
            draft.origin(source, origin);
        }
        _ => draft.flag(
            Severity::Untranslatable,
            source,
            format!("{what} is left out: it matches every origin that starts that way (e.g. \"{value}evil.net\"), which no entry can say"),
        ),
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
        Some((host, port)) if !port.contains(']') => (host, Some(port)),
        _ => (value, None),
    };
    let port = port.map(|p| format!(":{p}")).unwrap_or_default();
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

fn regex(draft: &mut Draft, source: &str, pattern: &str, ignore_case: bool) {
    let proxy = draft.proxy;
    let pattern = if ignore_case {
        format!("(?i){pattern}")
    } else {
        pattern.to_string()
    };
    let regex = match SourceRegex::parse(&pattern, Anchoring::Full, Subject::Origin) {
        Ok(regex) => regex,
        Err(why) => {
            draft.flag(
                Severity::Untranslatable,
                source,
                format!("regex \"{pattern}\" is left out: it {why}"),
            );
            return;
        }
    };
    if regex.is_match("*") {
        draft.flag(
            Severity::Insecure,
            source,
            format!("regex \"{pattern}\" matches the text \"*\", which {proxy} takes as allowing every origin; imported as \"*\""),
        );
        draft.origin(source, "*");
        return;
    }
    match regex.translate() {
        Ok(entries) => {
            for entry in entries {
                draft.origin(source, entry);
            }
        }
        Err(refusal) => draft.flag(
            if refusal.over_broad {
                Severity::Insecure
            } else {
                Severity::Untranslatable
            },
            source,
            format!("regex \"{pattern}\" is left out: it {}", refusal.message),
        ),
    }
}
