//! Where a source's routes apply, as `match` entries, and the order that
//! keeps the filter's first-match choosing the policy the source chose.
//!
//! What a `match` cannot say (a header condition, a regex path, a host
//! pattern) is dropped from the scope, which then covers more requests than
//! the source's route did: that is a [`Severity::Widening`] finding. A
//! scope is the engine's own [`Match`]: `None` stands for any host or path.

use super::{Finding, Severity};
use filter_core::Match;
use regex_syntax::hir::HirKind;
use serde_json::Value;
use std::cmp::Reverse;

/// Sorts before the less specific: exact hosts, then `*.` suffixes,
/// longest first, then any host; within that (when the source prefers the
/// most specific path rather than the first route) exact paths, then
/// prefixes, longest first, then any path.
fn rank(scope: &Match, by_path: bool) -> (u8, Reverse<usize>, u8, Reverse<usize>) {
    let (host_class, host_len) = match scope.hosts.as_deref().and_then(<[String]>::first) {
        None => (2, 0),
        Some(host) if host.starts_with("*.") => (1, host.len()),
        Some(_) => (0, 0),
    };
    // Gateway API and Kong: an exact path before any prefix, longer first.
    let paths = scope.paths.as_deref().unwrap_or_default();
    let longest = |prefix: bool| {
        let lengths = paths.iter().filter(|p| p.ends_with('*') == prefix);
        lengths.map(String::len).max()
    };
    let best_path = match (paths.is_empty(), longest(true)) {
        (true, _) => (2, Reverse(0)),
        (false, Some(len)) => (1, Reverse(len)),
        (false, None) => (0, Reverse(longest(false).unwrap_or(0))),
    };
    let (path_class, path_len) = if by_path { best_path } else { (0, Reverse(0)) };
    (host_class, Reverse(host_len), path_class, path_len)
}

/// The scope split by kind of host (exact, each `*.` suffix length, any),
/// since the source tries those kinds in that order.
fn by_host_kind(scope: &Match) -> Vec<Match> {
    let kind = |h: &str| h.strip_prefix("*.").map(str::len);
    let mut split: Vec<Vec<String>> = Vec::new();
    for host in scope.hosts.iter().flatten() {
        match split.iter_mut().find(|hosts| kind(&hosts[0]) == kind(host)) {
            Some(hosts) => hosts.push(host.clone()),
            None => split.push(vec![host.clone()]),
        }
    }
    if split.is_empty() {
        return vec![scope.clone()];
    }
    let with = |hosts| Match {
        hosts: Some(hosts),
        ..scope.clone()
    };
    split.into_iter().map(with).collect()
}

/// Sorts `(route, scope)` pairs into the order the filter must try them.
pub fn order(placed: Vec<(usize, Match)>, by_path: bool) -> Vec<(usize, Match)> {
    let split =
        |(route, scope): (usize, Match)| by_host_kind(&scope).into_iter().map(move |s| (route, s));
    let mut placed: Vec<(usize, Match)> = placed.into_iter().flat_map(split).collect();
    placed.sort_by_key(|(_, scope)| rank(scope, by_path));
    placed
}

/// The source's list of hosts at `at` as `match.hosts`: `None` (any host)
/// when the list is empty, or when one of them stands for any host.
pub fn hosts<'a>(
    findings: &mut Vec<Finding>,
    at: &str,
    list: impl Into<Option<&'a Value>>,
) -> Option<Vec<String>> {
    let hosts: Option<Vec<String>> = super::list(list)
        .map(|(i, h)| host(findings, &format!("{at}[{i}]"), h.as_str().unwrap_or("*")))
        .collect();
    hosts.filter(|hosts| !hosts.is_empty())
}

/// A host of the source as a `match.hosts` entry: `None` for any host. A
/// pattern the filter cannot say is flagged and stands for any host.
fn host(findings: &mut Vec<Finding>, source: &str, host: &str) -> Option<String> {
    let host = host.trim().to_ascii_lowercase();
    if host == "*" || host.is_empty() {
        return None;
    }
    let (name, port) = match host
        .rsplit_once(':')
        .filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit()))
    {
        Some((name, port)) => (name.to_string(), Some(port)),
        None => (host.clone(), None),
    };
    if let Some(port) = port {
        widening(findings, source, format!("\"{host}\" is only port {port}; match.hosts ignores the port, so the policy applies on every port of {name}"));
    }
    let inner_star = name.strip_prefix("*.").unwrap_or(&name).contains('*');
    if inner_star {
        widening(findings, source, format!("host pattern \"{host}\" has no match.hosts equivalent (only exact hosts and *.suffix); the policy applies to every host"));
        return None;
    }
    Some(name)
}

/// The source's path conditions of one kind as `match.paths` entries.
pub enum PathMatch<'a> {
    Exact(&'a str),
    /// Any path that starts with the text (`/v1` also matches `/v1beta`).
    Prefix(&'a str),
    /// The path and the paths under it, element by element (`/v1` matches
    /// `/v1` and `/v1/x`, not `/v1beta`): Gateway API's `PathPrefix`,
    /// Envoy's `path_separated_prefix`.
    Segments(&'a str),
    /// Full-match regex (RE2): carried only when it is a literal path or a
    /// literal prefix followed by `.*`.
    Regex(&'a str),
}

/// The entries for one path condition; `None` when it covers every path
/// (a flagged regex, or the prefix `/`).
pub fn path(
    findings: &mut Vec<Finding>,
    source: &str,
    condition: PathMatch,
) -> Option<Vec<String>> {
    let literal = |p: &str| !p.contains('*') && p.starts_with('/');
    let entries = match condition {
        PathMatch::Prefix(p) | PathMatch::Segments(p) if p.is_empty() || p == "/" => return None,
        PathMatch::Exact(p) if literal(p) => vec![p.to_string()],
        PathMatch::Prefix(p) if literal(p) => vec![format!("{p}*")],
        PathMatch::Segments(p) if literal(p) => {
            let p = p.trim_end_matches('/');
            vec![p.to_string(), format!("{p}/*")]
        }
        PathMatch::Regex(regex) => match regex_prefix(regex) {
            Some(entry) if entry == "/*" => return None,
            Some(entry) => vec![entry],
            None => {
                widening(findings, source, format!("path regex \"{regex}\" is not a literal path or prefix, which is all match.paths can say; the policy applies to every path"));
                return None;
            }
        },
        PathMatch::Exact(p) | PathMatch::Prefix(p) | PathMatch::Segments(p) => {
            widening(findings, source, format!("path \"{p}\" cannot be a match.paths entry (it must start with / and hold no *); the policy applies to every path"));
            return None;
        }
    };
    Some(entries)
}

/// `/v1/.*` as `/v1/*`, `/health` as itself: the regex, its anchors and
/// trailing "any text" removed, must read as one literal path.
fn regex_prefix(regex: &str) -> Option<String> {
    let mut body = regex.strip_prefix('^').unwrap_or(regex);
    body = body
        .strip_suffix('$')
        .filter(|b| !b.ends_with('\\'))
        .unwrap_or(body);
    // `.` leaves out only `\n`, which paths never hold.
    let mut prefix = false;
    while let Some(rest) = [".*", ".*?", "(?s:.)*"]
        .iter()
        .find_map(|any| body.strip_suffix(any))
    {
        (body, prefix) = (rest, true);
    }
    let hir = regex_syntax::parse(body).ok()?;
    let HirKind::Literal(literal) = hir.kind() else {
        return None;
    };
    let path = std::str::from_utf8(&literal.0).ok()?;
    let star = if prefix { "*" } else { "" };
    (path.starts_with('/') && !path.contains('*')).then(|| format!("{path}{star}"))
}

/// A condition of the source's route that no `match` can carry.
pub fn lost_condition(findings: &mut Vec<Finding>, source: &str) {
    widening(findings, source, "the route also matched on this; a policy matches on host and path only, so it applies to requests the route did not take");
}

pub fn widening(findings: &mut Vec<Finding>, source: &str, message: impl Into<String>) {
    super::flag(findings, Severity::Widening, source, message);
}
