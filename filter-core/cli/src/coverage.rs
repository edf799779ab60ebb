//! Which requests a policy's `match` covers, compared pattern by pattern:
//! enough to see that a later policy can never apply because earlier ones
//! take every request it would, or that two matches share requests. The
//! patterns are the engine's normalized ones (hosts lowercase); a doubt
//! counts as "not covered", so a warning is only given when it is certain.

use filter_core::{Match, PolicyConfig};

/// `pattern` (an exact host, `*.suffix` or `*`) matches every host `inner`
/// matches.
fn host_covers(pattern: &str, inner: &str) -> bool {
    match (pattern.strip_prefix('*'), inner.strip_prefix('*')) {
        (Some(dot_suffix), Some(inner_suffix)) => inner_suffix.ends_with(dot_suffix),
        (Some(dot_suffix), None) => inner.len() > dot_suffix.len() && inner.ends_with(dot_suffix),
        (None, inner_wildcard) => inner_wildcard.is_none() && pattern == inner,
    }
}

/// `pattern` (an exact path or a prefix ending in `*`) matches every path
/// `inner` matches.
fn path_covers(pattern: &str, inner: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => inner.starts_with(prefix),
        None => pattern == inner,
    }
}

/// A match's hosts and paths, `*` (which covers every pattern) standing
/// for "any".
fn patterns(scope: &Match) -> (Vec<&str>, Vec<&str>) {
    fn or_any(list: &Option<Vec<String>>) -> Vec<&str> {
        list.as_ref()
            .map_or(vec!["*"], |l| l.iter().map(String::as_str).collect())
    }
    (or_any(&scope.hosts), or_any(&scope.paths))
}

/// Whether some request falls in both matches. Host patterns (`*.`
/// suffixes) and path patterns (prefixes) overlap only where one covers
/// the other.
pub fn overlaps(a: &Match, b: &Match) -> bool {
    let ((a_hosts, a_paths), (b_hosts, b_paths)) = (patterns(a), patterns(b));
    let meet = |x: &[&str], y: &[&str], covers: fn(&str, &str) -> bool| {
        x.iter()
            .any(|p| y.iter().any(|q| covers(p, q) || covers(q, p)))
    };
    meet(&a_hosts, &b_hosts, host_covers) && meet(&a_paths, &b_paths, path_covers)
}

/// The earlier policies that together take every request `policies[index]`
/// matches, or `None` when some request reaches it. Each host and path
/// pair of the policy must be covered by one earlier policy; coverage that
/// only a union of several earlier patterns gives is not detected.
pub fn shadowed_by(policies: &[PolicyConfig], index: usize) -> Option<Vec<usize>> {
    let later = &policies[index];
    let (hosts, paths) = patterns(&later.r#match);
    let mut by = Vec::new();
    for host in &hosts {
        for path in &paths {
            let earlier = policies[..index].iter().position(|p| {
                let (their_hosts, their_paths) = patterns(&p.r#match);
                // Case-insensitive paths cover more than case-sensitive ones, never less.
                (p.r#match.ignore_case || !later.r#match.ignore_case)
                    && their_hosts.iter().any(|h| host_covers(h, host))
                    && their_paths.iter().any(|q| path_covers(q, path))
            })?;
            if !by.contains(&earlier) {
                by.push(earlier);
            }
        }
    }
    by.sort_unstable();
    Some(by)
}
