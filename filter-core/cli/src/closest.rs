//! For a refused `Origin`: the `allow_origins` entry that came closest, and
//! each way the two differ, so that a user sees the one character to fix.

use crate::origin::{default_port, Entry, Host, Port, RequestOrigin};
use serde::Serialize;

/// One difference between the request's `Origin` and an entry.
#[derive(Debug, Serialize)]
pub struct Reason {
    pub code: &'static str,
    pub message: String,
}

/// The nearest entry (if any is near at all) and the reasons it failed.
#[derive(Debug, Serialize)]
pub struct Diagnosis {
    pub index: Option<usize>,
    pub entry: Option<String>,
    pub reasons: Vec<Reason>,
}

/// How an entry's host relates to the request's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HostFit {
    Fits,
    SubdomainOfExact,
    BareDomainOfWildcard,
    SameEndingNotSubdomain,
    Differs,
}

impl HostFit {
    fn cost(self) -> u32 {
        match self {
            HostFit::Fits => 0,
            HostFit::SubdomainOfExact
            | HostFit::BareDomainOfWildcard
            | HostFit::SameEndingNotSubdomain => 2,
            HostFit::Differs => 5,
        }
    }
}

/// `entries` are the policy's normalized `allow_origins`, in order.
pub fn diagnose(raw: &[u8], entries: &[String]) -> Diagnosis {
    let reason = |code, message: String| Reason { code, message };
    let null_entry = entries.iter().position(|e| e == "null");
    if raw.eq_ignore_ascii_case(b"null") {
        return match null_entry {
            Some(index) => Diagnosis {
                index: Some(index),
                entry: Some("null".into()),
                reasons: vec![reason("origin_uppercase", "browsers send \"null\" in lowercase, and the filter compares byte for byte".into())],
            },
            None => Diagnosis {
                index: None,
                entry: None,
                reasons: vec![reason(
                    "null_not_allowed",
                    "Origin: null comes from an opaque origin (a sandboxed iframe, a file: page, a redirect across origins), and allow_origins has no \"null\"".into(),
                )],
            },
        };
    }
    let Some(origin) = RequestOrigin::parse(raw) else {
        return Diagnosis {
            index: None,
            entry: None,
            reasons: vec![reason(
                "not_an_origin",
                format!(
                    "\"{}\" is not an origin: browsers send scheme://host[:port]",
                    String::from_utf8_lossy(raw)
                ),
            )],
        };
    };
    let mut reasons: Vec<Reason> = origin
        .flaws
        .iter()
        .map(|(code, message)| reason(code, message.clone()))
        .collect();
    if raw.len() > 300 {
        reasons.push(reason(
            "origin_too_long",
            "it is longer than 300 bytes, more than any serialized origin".into(),
        ));
    }
    let best = entries
        .iter()
        .enumerate()
        .filter_map(|(index, text)| match Entry::parse(text) {
            Entry::Origin { scheme, host, port } => {
                let fit = host_fit(&origin.host, &host);
                let cost = fit.cost()
                    + u32::from(scheme != origin.scheme)
                    + u32::from(!port_fits(port, origin.port));
                let name = match &host {
                    Host::Exact(h) | Host::Subdomains(h) => h.as_str(),
                };
                Some((
                    cost,
                    edit_distance(name, &origin.host),
                    index,
                    scheme,
                    host,
                    port,
                    fit,
                ))
            }
            Entry::Any | Entry::Null => None,
        })
        .min_by_key(|(cost, distance, index, ..)| (*cost, *distance, *index));
    let Some((cost, _, index, scheme, host, port, fit)) = best else {
        reasons.push(reason(
            "no_origin_entries",
            "allow_origins lists no origin to compare with".into(),
        ));
        return Diagnosis {
            index: None,
            entry: None,
            reasons,
        };
    };
    if scheme != origin.scheme {
        let mut message = format!(
            "the scheme differs: the entry allows {scheme}, the Origin is {}",
            origin.scheme
        );
        if origin.scheme == "http" && scheme == "https" {
            message.push_str(" (the page was loaded over plain http)");
        }
        reasons.push(reason("scheme_differs", message));
    }
    let request_host = &origin.host;
    match (fit, &host) {
        (HostFit::SubdomainOfExact, Host::Exact(h)) => reasons.push(reason(
            "subdomain_of_exact_entry",
            format!("{request_host} is a subdomain of {h}, and the entry allows {h} alone: add \"{scheme}://*.{h}\" for its subdomains"),
        )),
        (HostFit::BareDomainOfWildcard, Host::Subdomains(s)) => reasons.push(reason(
            "bare_domain_vs_wildcard",
            format!("\"*.{s}\" matches the subdomains of {s}, never {s} itself: add \"{scheme}://{s}\""),
        )),
        (HostFit::SameEndingNotSubdomain, Host::Subdomains(s)) => reasons.push(reason(
            "not_a_subdomain",
            format!("{request_host} only ends with the same letters: \"*.{s}\" matches whole labels (a.{s}), and {request_host} is another domain"),
        )),
        (HostFit::Differs, Host::Exact(h) | Host::Subdomains(h)) => reasons.push(reason(
            "host_differs",
            format!("the host differs: the entry names {h}, the Origin is {request_host}"),
        )),
        _ => {}
    }
    if !port_fits(port, origin.port) {
        let default = default_port(&scheme)
            .map(|p| format!(" ({p})"))
            .unwrap_or_default();
        let message = match (port, origin.port) {
            (Port::Default, Some(p)) => format!(
                "the port differs: the entry allows the default port{default} only, the Origin has :{p}: add :{p} (or :*) to the entry"
            ),
            (Port::Exact(e), None) => format!(
                "the port differs: the entry allows :{e} only, the Origin has the default port{default}"
            ),
            (Port::Exact(e), Some(p)) => format!(
                "the port differs: the entry allows :{e} only, the Origin has :{p}"
            ),
            _ => "the port differs".to_string(),
        };
        reasons.push(reason("port_differs", message));
    }
    if cost == 0 {
        reasons.push(reason(
            "matches_when_serialized",
            format!(
                "as a browser sends it (\"{}\") the Origin matches this entry",
                origin.serialized()
            ),
        ));
    }
    Diagnosis {
        index: Some(index),
        entry: Some(entries[index].clone()),
        reasons,
    }
}

fn host_fit(request: &str, entry: &Host) -> HostFit {
    match entry {
        Host::Exact(h) if request == h => HostFit::Fits,
        Host::Exact(h) if request.ends_with(&format!(".{h}")) => HostFit::SubdomainOfExact,
        Host::Subdomains(s) if request.ends_with(&format!(".{s}")) => HostFit::Fits,
        Host::Subdomains(s) if request == s => HostFit::BareDomainOfWildcard,
        Host::Subdomains(s) if request.ends_with(s.as_str()) => HostFit::SameEndingNotSubdomain,
        _ => HostFit::Differs,
    }
}

fn port_fits(entry: Port, request: Option<u16>) -> bool {
    match entry {
        Port::Default => request.is_none(),
        Port::Exact(p) => request == Some(p),
        Port::Any => true,
    }
}

/// Levenshtein distance, to rank entries that differ in the host.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != *cb);
            current.push(substitute.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}
