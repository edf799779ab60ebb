//! A policy's `match`: which requests it applies to, by host and path.

use crate::error::Problem;
use crate::origin::{is_domain, parse_ipv6, split_host_port};
use crate::path::normalize_path;
use alloc::boxed::Box;
use alloc::vec::Vec;

/// The compiled `match` of a policy. `None` lists match anything.
#[derive(Debug, Default)]
pub(crate) struct Scope {
    pub(crate) hosts: Option<Vec<HostMatch>>,
    pub(crate) paths: Option<Vec<PathMatch>>,
    /// `match.ignore_case`: paths compared ASCII-case-insensitively.
    pub(crate) ignore_case: bool,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum HostMatch {
    /// Lowercase host.
    Exact(Box<[u8]>),
    /// `*.suffix`: stored as `.suffix`, lowercase, so that a host matches
    /// when it ends with it and is longer.
    Subdomains(Box<[u8]>),
    /// `[2001:db8::1]`: an IPv6 literal, compared as an address, so that any
    /// spelling of it in the request's authority matches.
    Ipv6([u16; 8]),
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PathMatch {
    Exact(Box<[u8]>),
    /// An entry ending in `*`, stored without it.
    Prefix(Box<[u8]>),
}

/// The groups of a bracketed IPv6 literal.
fn ipv6_literal(host: &[u8]) -> Option<[u16; 8]> {
    parse_ipv6(host.strip_prefix(b"[")?.strip_suffix(b"]")?)
}

impl HostMatch {
    pub(crate) fn parse(entry: &str) -> Result<HostMatch, Problem> {
        if entry.starts_with('[') {
            return ipv6_literal(entry.as_bytes())
                .map(HostMatch::Ipv6)
                .ok_or(Problem::BadHostPattern);
        }
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
            HostMatch::Ipv6(address) => ipv6_literal(host) == Some(*address),
        }
    }
}

impl PathMatch {
    /// An entry is normalized as request paths are ([`normalize_path`]), so
    /// that `/%61pi/*` and `/api/*` are one rule.
    pub(crate) fn parse(entry: &str) -> Result<PathMatch, Problem> {
        if entry.contains(['?', '#']) {
            return Err(Problem::PathWithQueryOrFragment);
        }
        if entry == "*" {
            return Ok(PathMatch::Prefix(Box::default()));
        }
        let (prefix, body) = match entry.strip_suffix('*') {
            Some(body) => (true, body),
            None => (false, entry),
        };
        if body.contains('*') || !body.starts_with('/') {
            return Err(Problem::BadPath);
        }
        let body = normalize_path(body.as_bytes())
            .into_owned()
            .into_boxed_slice();
        Ok(if prefix {
            PathMatch::Prefix(body)
        } else {
            PathMatch::Exact(body)
        })
    }

    fn matches(&self, path: &[u8], ignore_case: bool) -> bool {
        let (PathMatch::Exact(p) | PathMatch::Prefix(p)) = self;
        let compared = match self {
            PathMatch::Exact(_) => path,
            PathMatch::Prefix(_) => &path[..p.len().min(path.len())],
        };
        if ignore_case {
            compared.eq_ignore_ascii_case(p)
        } else {
            compared == &**p
        }
    }
}

impl Scope {
    /// `authority` is `host[:port]`; `path` is the request's path as
    /// [`normalize_path`] gives it.
    pub(crate) fn matches(&self, authority: &[u8], path: &[u8]) -> bool {
        self.matches_host(authority) && self.matches_path(path)
    }

    /// Whether `match.hosts` takes `authority` (`host[:port]`).
    pub(crate) fn matches_host(&self, authority: &[u8]) -> bool {
        self.hosts.as_ref().is_none_or(|hosts| {
            let host = split_host_port(authority).map_or(authority, |(host, _)| host);
            // `api.example.com.` is the same host, fully qualified: without
            // this, a trailing dot would step around every policy.
            let host = host.strip_suffix(b".").unwrap_or(host);
            hosts.iter().any(|h| h.matches(host))
        })
    }

    /// Whether `match.paths` takes `path`, as [`normalize_path`] gives it.
    pub(crate) fn matches_path(&self, path: &[u8]) -> bool {
        self.paths
            .as_ref()
            .is_none_or(|paths| paths.iter().any(|p| p.matches(path, self.ignore_case)))
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
            ignore_case: false,
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
            assert_eq!(s.matches(b"h", &normalize_path(path)), fits, "{path:?}");
        }
        assert!(scope(None, Some(&["*"])).matches(b"h", b"/anything"));
        assert!(scope(None, None).matches(b"", b""));
    }

    #[test]
    fn normalized_paths() {
        let s = scope(None, Some(&["/api/*", "/%68ealth"]));
        for inside in [
            &b"//api/x"[..],
            b"/%61pi/x",
            b"/api%2Fx",
            b"/public/..%2fapi/x",
            b"/public/%2e%2e/api/x",
            b"/public\\..\\api/x",
            b"/health",
            b"/x/../health?q",
        ] {
            assert!(s.matches(b"h", &normalize_path(inside)), "{inside:?}");
        }
        for outside in [&b"/API/x"[..], b"/api", b"/%2561pi/x", b"/Health"] {
            assert!(!s.matches(b"h", &normalize_path(outside)), "{outside:?}");
        }
        let mut s = scope(None, Some(&["/Api/*", "/Health"]));
        s.ignore_case = true;
        for inside in [&b"/api/x"[..], b"/API/x", b"/health", b"/HEALTH"] {
            assert!(s.matches(b"h", &normalize_path(inside)), "{inside:?}");
        }
        assert!(!s.matches(b"h", b"/ap"));
    }

    #[test]
    fn ipv6_hosts() {
        let s = scope(Some(&["[::1]", "[2001:DB8::1]"]), None);
        for inside in [
            &b"[::1]"[..],
            b"[::1]:8080",
            b"[0:0:0:0:0:0:0:1]",
            b"[2001:db8:0::1]:443",
        ] {
            assert!(s.matches(inside, b"/"), "{inside:?}");
        }
        for outside in [&b"[::2]"[..], b"[::1", b"::1", b"[::1]x", b"localhost"] {
            assert!(!s.matches(outside, b"/"), "{outside:?}");
        }
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
        for bad in ["/api?x=1", "/api#top", "/api/*?", "?"] {
            assert_eq!(
                PathMatch::parse(bad),
                Err(Problem::PathWithQueryOrFragment),
                "{bad}"
            );
        }
        for bad in ["[1:2]", "[::1]:8080", "[::1", "[:::::]"] {
            assert_eq!(HostMatch::parse(bad), Err(Problem::BadHostPattern), "{bad}");
        }
        assert_eq!(
            vec![PathMatch::parse("*").unwrap()],
            vec![PathMatch::Prefix(Box::from(&b""[..]))]
        );
    }
}
