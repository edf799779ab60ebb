//! For a refused `Origin`: the `allow_origins` entry that came closest, and
//! each way the two differ, so that a user sees the one character to fix.
//! The engine stays the judge: the browser's form of the value is the
//! engine's normalization of it, and whether an entry allows it is asked of
//! the engine, one entry at a time.

use crate::check::quote;
use filter_core::{normalize_origin_entry, Config};
use serde::Serialize;

/// One difference between the request's `Origin` and an entry.
#[derive(Debug, Serialize)]
pub struct Reason {
    pub code: &'static str,
    pub message: String,
}

/// The nearest entry (if any is near at all) and the reasons it failed.
#[derive(Debug, Default, Serialize)]
pub struct Diagnosis {
    pub index: Option<usize>,
    pub entry: Option<String>,
    pub reasons: Vec<Reason>,
}

fn reason(code: &'static str, message: impl Into<String>) -> Reason {
    Reason {
        code,
        message: message.into(),
    }
}

/// `entries` are the policy's normalized `allow_origins`, in order.
pub fn diagnose(raw: &[u8], entries: &[String]) -> Diagnosis {
    let mut diagnosis = Diagnosis::default();
    if raw.eq_ignore_ascii_case(b"null") {
        diagnosis.index = entries.iter().position(|e| e == "null");
        diagnosis.reasons.push(match diagnosis.index {
            Some(_) => reason("origin_uppercase", "browsers send \"null\" in lowercase, and the filter compares byte for byte"),
            None => reason("null_not_allowed", "Origin: null comes from an opaque origin (a sandboxed iframe, a file: page, a redirect across origins), and allow_origins has no \"null\""),
        });
        diagnosis.entry = diagnosis.index.map(|_| "null".to_string());
        return diagnosis;
    }
    let Some(origin) = as_browsers_send(raw, &mut diagnosis.reasons) else {
        let value = String::from_utf8_lossy(raw);
        diagnosis.reasons.push(reason(
            "not_an_origin",
            format!("\"{value}\" is not an origin: browsers send scheme://host[:port]"),
        ));
        return diagnosis;
    };
    // The fewest differences (a host unlike the entry's counts most), then
    // the nearest host.
    let cost = |reasons: &[Reason]| -> usize {
        let weight = |r: &Reason| match r.code {
            "host_differs" => 5,
            "scheme_differs" | "port_differs" => 1,
            _ => 2,
        };
        1 + reasons.iter().map(weight).sum::<usize>()
    };
    let best = (entries.iter().enumerate())
        .filter(|(_, entry)| entry.contains("://"))
        .map(|(index, entry)| {
            let allowed = allows(entry, &origin);
            let rank = if allowed {
                0
            } else {
                cost(&differences(&origin, entry))
            };
            (
                rank,
                strsim::levenshtein(parts(entry).1, parts(&origin).1),
                index,
            )
        })
        .min();
    let Some((rank, _, index)) = best else {
        diagnosis.reasons.push(reason(
            "no_origin_entries",
            "allow_origins lists no origin to compare with",
        ));
        return diagnosis;
    };
    let entry = &entries[index];
    if rank == 0 {
        diagnosis.reasons.push(reason(
            "matches_when_serialized",
            format!("as a browser sends it (\"{origin}\") the Origin matches this entry"),
        ));
    } else {
        diagnosis.reasons.extend(differences(&origin, entry));
    }
    diagnosis.index = Some(index);
    diagnosis.entry = Some(entry.clone());
    diagnosis
}

/// Each way `entry` fails to allow `origin`: its scheme, host and port.
fn differences(origin: &str, entry: &str) -> Vec<Reason> {
    let (scheme, host, port) = parts(origin);
    let (their_scheme, their_host, their_port) = parts(entry);
    let mut reasons = Vec::new();
    if scheme != their_scheme {
        let plain = if scheme == "http" && their_scheme == "https" {
            " (the page was loaded over plain http)"
        } else {
            ""
        };
        reasons.push(reason("scheme_differs", format!("the scheme differs: the entry allows {their_scheme}, the Origin is {scheme}{plain}")));
    }
    let subdomain_of = |domain: &str| host.ends_with(&format!(".{domain}"));
    reasons.extend(match their_host.strip_prefix("*.") {
        None if host == their_host => None,
        None if subdomain_of(their_host) => Some(reason("subdomain_of_exact_entry", format!("{host} is a subdomain of {their_host}, and the entry allows {their_host} alone: add \"{their_scheme}://*.{their_host}\" for its subdomains"))),
        Some(suffix) if subdomain_of(suffix) => None,
        Some(suffix) if host == suffix => Some(reason("bare_domain_vs_wildcard", format!("\"*.{suffix}\" matches the subdomains of {suffix}, never {suffix} itself: add \"{their_scheme}://{suffix}\""))),
        Some(suffix) if host.ends_with(suffix) => Some(reason("not_a_subdomain", format!("{host} only ends with the same letters: \"*.{suffix}\" matches whole labels (a.{suffix}), and {host} is another domain"))),
        _ => Some(reason("host_differs", format!("the host differs: the entry names {their_host}, the Origin is {host}"))),
    });
    if their_port != Some("*") && their_port != port {
        let show = |p: Option<&str>| p.map_or("the default port".to_string(), |p| format!(":{p}"));
        let mut message = format!(
            "the port differs: the entry allows {} only, the Origin has {}",
            show(their_port),
            show(port)
        );
        if let (None, Some(p)) = (their_port, port) {
            message.push_str(&format!(": add :{p} (or :*) to the entry"));
        }
        reasons.push(reason("port_differs", message));
    }
    reasons
}

/// The origin a browser would have sent in place of `raw`, recording every
/// way `raw` differs from it; `None` when it is no origin at all.
fn as_browsers_send(raw: &[u8], flaws: &mut Vec<Reason>) -> Option<String> {
    if !raw.is_ascii() {
        flaws.push(reason(
            "origin_not_ascii",
            "it has bytes outside ASCII: browsers send hosts in punycode (xn--…)",
        ));
    }
    let text = String::from_utf8_lossy(raw);
    let mut value = text.as_ref();
    if let Some((first, _)) = value.split_once(',') {
        flaws.push(reason("several_origins", "it holds several values: a request carries one Origin (two Origin lines joined by a proxy, or a list sent by the client)"));
        value = first;
    }
    if value.len() != value.trim().len() {
        flaws.push(reason("origin_whitespace", "it has spaces around it"));
        value = value.trim();
    }
    if value.bytes().any(|b| b.is_ascii_uppercase()) {
        flaws.push(reason("origin_uppercase", "it has uppercase letters: browsers send scheme and host in lowercase, and the filter compares byte for byte"));
    }
    let (scheme, mut rest) = value.split_once("://")?;
    if let Some(i) = rest.find(['/', '?', '#']) {
        flaws.push(reason("origin_has_path", format!("it ends in \"{}\": an origin is scheme://host[:port], with no path, not even a trailing \"/\"", &rest[i..])));
        rest = &rest[..i];
    }
    if let Some((_, host)) = rest.rsplit_once('@') {
        flaws.push(reason(
            "origin_has_userinfo",
            "it has a user name: browsers never send one in Origin",
        ));
        rest = host;
    }
    let written = format!("{scheme}://{rest}").to_ascii_lowercase();
    match normalize_origin_entry(&written) {
        Ok(serialized) if serialized == written => Some(written),
        Ok(serialized) => {
            flaws.push(reason(
                "not_serialized",
                format!("browsers send it as \"{serialized}\""),
            ));
            Some(serialized)
        }
        Err(problem) => {
            flaws.push(reason(
                "bad_origin",
                format!("{}: {problem}", quote(&written)),
            ));
            Some(written)
        }
    }
}

/// Whether the engine, given `entry` alone, allows `origin`.
fn allows(entry: &str, origin: &str) -> bool {
    let probe = serde_json::json!({"policies": [{"name": "probe", "allow_origins": [entry]}]});
    let Ok(config) = Config::from_json(probe.to_string().as_bytes()) else {
        return false;
    };
    (config.policies().first()).is_some_and(|p| p.allows_origin(origin.as_bytes()))
}

/// `scheme://host[:port]` split; the host may be a bracketed IPv6 address.
fn parts(origin: &str) -> (&str, &str, Option<&str>) {
    let (scheme, rest) = origin.split_once("://").unwrap_or(("", origin));
    match rest.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') => (scheme, host, Some(port)),
        _ => (scheme, rest, None),
    }
}
