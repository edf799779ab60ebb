//! Which requests a policy's `match` covers, compared pattern by pattern:
//! enough to see that a later policy can never apply because earlier ones
//! take every request it would.

use crate::view::PolicyView;

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    Any,
    Exact(String),
    /// `*.suffix`, stored as `.suffix`.
    Subdomains(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PathPattern {
    Exact(String),
    /// An entry ending in `*`, stored without it; `""` is every path.
    Prefix(String),
}

fn host_patterns(policy: &PolicyView) -> Vec<HostPattern> {
    match &policy.scope.hosts {
        None => vec![HostPattern::Any],
        Some(hosts) => hosts
            .iter()
            .map(|h| match h.strip_prefix('*') {
                Some(dot_suffix) => HostPattern::Subdomains(dot_suffix.to_string()),
                None => HostPattern::Exact(h.clone()),
            })
            .collect(),
    }
}

fn path_patterns(policy: &PolicyView) -> Vec<PathPattern> {
    match &policy.scope.paths {
        None => vec![PathPattern::Prefix(String::new())],
        Some(paths) => paths
            .iter()
            .map(|p| match p.strip_suffix('*') {
                Some(prefix) => PathPattern::Prefix(prefix.to_string()),
                None => PathPattern::Exact(p.clone()),
            })
            .collect(),
    }
}

/// Whether every host `inner` matches, `outer` matches too.
fn host_covers(outer: &HostPattern, inner: &HostPattern) -> bool {
    match (outer, inner) {
        (HostPattern::Any, _) => true,
        (_, HostPattern::Any) => false,
        (HostPattern::Exact(a), HostPattern::Exact(b)) => a == b,
        (HostPattern::Subdomains(s), HostPattern::Exact(b)) => {
            b.len() > s.len() && b.ends_with(s.as_str())
        }
        (HostPattern::Subdomains(s), HostPattern::Subdomains(t)) => t.ends_with(s.as_str()),
        (HostPattern::Exact(_), HostPattern::Subdomains(_)) => false,
    }
}

fn path_covers(outer: &PathPattern, inner: &PathPattern) -> bool {
    match (outer, inner) {
        (PathPattern::Prefix(p), PathPattern::Exact(x) | PathPattern::Prefix(x)) => {
            x.starts_with(p.as_str())
        }
        (PathPattern::Exact(a), PathPattern::Exact(b)) => a == b,
        (PathPattern::Exact(_), PathPattern::Prefix(_)) => false,
    }
}

/// The earlier policies that together take every request `policies[index]`
/// matches, or `None` when some request reaches it. Each host and path
/// pair of the policy must be covered by one earlier policy; coverage that
/// only a union of several earlier patterns gives is not detected.
pub fn shadowed_by(policies: &[PolicyView], index: usize) -> Option<Vec<usize>> {
    let later = &policies[index];
    let mut by = Vec::new();
    for host in host_patterns(later) {
        for path in path_patterns(later) {
            let earlier = policies[..index].iter().position(|p| {
                host_patterns(p).iter().any(|h| host_covers(h, &host))
                    && path_patterns(p).iter().any(|q| path_covers(q, &path))
            })?;
            if !by.contains(&earlier) {
                by.push(earlier);
            }
        }
    }
    by.sort_unstable();
    Some(by)
}

/// Why a request's host and path are outside a policy's `match`, or `None`
/// when they are inside.
pub fn outside(policy: &PolicyView, host: &str, path: &str) -> Option<String> {
    let host = host.to_ascii_lowercase();
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let request_host = HostPattern::Exact(host.clone());
    let request_path = PathPattern::Exact(path.to_string());
    if !host_patterns(policy)
        .iter()
        .any(|h| host_covers(h, &request_host))
    {
        return Some(format!("host \"{host}\" is not in match.hosts"));
    }
    if !path_patterns(policy)
        .iter()
        .any(|p| path_covers(p, &request_path))
    {
        return Some(format!("path \"{path}\" is not in match.paths"));
    }
    None
}
