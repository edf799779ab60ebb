//! A policy's `match`: which requests it applies to, by host and path.

use crate::error::Problem;
use crate::origin::{is_domain, split_host_port};
use alloc::boxed::Box;
use alloc::vec::Vec;

/// The compiled `match` of a policy. `None` lists match anything.
#[derive(Debug, Default)]
pub(crate) struct Scope {
    pub(crate) hosts: Option<Vec<HostMatch>>,
    pub(crate) paths: Option<Vec<PathMatch>>,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum HostMatch {
    /// Lowercase host.
    Exact(Box<[u8]>),
    /// `*.suffix`: stored as `.suffix`, lowercase, so that a host matches
    /// when it ends with it and is longer.
    Subdomains(Box<[u8]>),
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PathMatch {
    Exact(Box<[u8]>),
    /// An entry ending in `*`, stored without it.
    Prefix(Box<[u8]>),
}

impl HostMatch {
    pub(crate) fn parse(entry: &str) -> Result<HostMatch, Problem> {
        let lower = entry.to_ascii_lowercase();
        let (pattern, name) = match lower.strip_prefix("*.") {
            Some(suffix) => (true, suffix),
            None => (false, &*lower),
        };
        if !entry.is_ascii() || !is_domain(name.as_bytes()) {
            return Err(Problem::BadHostPattern);
        }
        Ok(if pattern {
            HostMatch::Subdomains(lower.as_bytes()[1..].into())
        } else {
            HostMatch::Exact(name.as_bytes().into())
        })
    }

    fn matches(&self, host: &[u8]) -> bool {
        match self {
            HostMatch::Exact(name) => host.eq_ignore_ascii_case(name),
            HostMatch::Subdomains(dot_suffix) => {
                host.len() > dot_suffix.len()
                    && host[host.len() - dot_suffix.len()..].eq_ignore_ascii_case(dot_suffix)
            }
        }
    }
}

impl PathMatch {
    pub(crate) fn parse(entry: &str) -> Result<PathMatch, Problem> {
        let (prefix, body) = match entry.strip_suffix('*') {
            Some(body) => (true, body),
            None => (false, entry),
        };
        if body.contains('*') || !(body.starts_with('/') || (prefix && body.is_empty())) {
            return Err(Problem::BadPath);
        }
        let body = body.as_bytes().into();
        Ok(if prefix {
            PathMatch::Prefix(body)
        } else {
            PathMatch::Exact(body)
        })
    }

    fn matches(&self, path: &[u8]) -> bool {
        match self {
            PathMatch::Exact(p) => path == &**p,
            PathMatch::Prefix(p) => path.starts_with(p),
        }
    }
}

impl Scope {
    /// `authority` is `host[:port]`; `path` may carry a query and fragment,
    /// which are ignored.
    pub(crate) fn matches(&self, authority: &[u8], path: &[u8]) -> bool {
        let host_fits = self.hosts.as_ref().is_none_or(|hosts| {
            let host = split_host_port(authority).map_or(authority, |(host, _)| host);
            // `api.example.com.` is the same host, fully qualified: without
            // this, a trailing dot would step around every policy.
            let host = host.strip_suffix(b".").unwrap_or(host);
            hosts.iter().any(|h| h.matches(host))
        });
        host_fits
            && self.paths.as_ref().is_none_or(|paths| {
                let end = path
                    .iter()
                    .position(|&b| b == b'?' || b == b'#')
                    .unwrap_or(path.len());
                paths.iter().any(|p| p.matches(&path[..end]))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn scope(hosts: Option<&[&str]>, paths: Option<&[&str]>) -> Scope {
        Scope {
            hosts: hosts.map(|h| h.iter().map(|e| HostMatch::parse(e).unwrap()).collect()),
            paths: paths.map(|p| p.iter().map(|e| PathMatch::parse(e).unwrap()).collect()),
        }
    }

    #[test]
    fn hosts() {
        let s = scope(Some(&["api.example.com", "*.Example.net"]), None);
        let cases: &[(&[u8], bool)] = &[
            (b"api.example.com", true),
            (b"API.Example.com:8080", true),
            (b"api.example.com.", true),
            (b"api.example.com.:443", true),
            (b"a.example.net.", true),
            (b"www.api.example.com", false),
            (b"a.example.net", true),
            (b"a.b.example.net:443", true),
            (b"example.net", false),
            (b"badexample.net", false),
            (b"", false),
            (b"\xff", false),
        ];
        for &(authority, fits) in cases {
            assert_eq!(s.matches(authority, b"/"), fits, "{authority:?}");
        }
    }

    #[test]
    fn paths() {
        let s = scope(None, Some(&["/api/*", "/health"]));
        let cases: &[(&[u8], bool)] = &[
            (b"/api/", true),
            (b"/api/x/y?q=1", true),
            (b"/api", false),
            (b"/health", true),
            (b"/health?full", true),
            (b"/health#x", true),
            (b"/healthz", false),
            (b"/", false),
            (b"", false),
        ];
        for &(path, fits) in cases {
            assert_eq!(s.matches(b"h", path), fits, "{path:?}");
        }
        assert!(scope(None, Some(&["*"])).matches(b"h", b"/anything"));
        assert!(scope(None, None).matches(b"", b""));
    }

    #[test]
    fn bad_entries() {
        for bad in [
            "",
            "*",
            "*.",
            "a..b",
            "api.example.com:8080",
            "bücher.de",
            "*.*.a.com",
            "a.*.com",
        ] {
            assert_eq!(HostMatch::parse(bad), Err(Problem::BadHostPattern), "{bad}");
        }
        for bad in ["", "api/*", "/a*b", "/**", "/a/*/b"] {
            assert_eq!(PathMatch::parse(bad), Err(Problem::BadPath), "{bad}");
        }
        assert_eq!(
            vec![PathMatch::parse("*").unwrap()],
            vec![PathMatch::Prefix(Box::from(&b""[..]))]
        );
    }
}
