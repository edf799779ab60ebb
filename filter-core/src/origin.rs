//! Origins: the `allow_origins` entries of a config, compiled so that
//! matching a request's `Origin` costs the same with one entry or 10,000,
//! and the strict reading of a request's `Origin`.

use crate::error::Problem;
use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use hashbrown::HashMap;

/// No serialized origin is longer: a scheme, `://`, a 253-byte host and a port.
/// Longer values are refused before any parsing.
const MAX_ORIGIN_LEN: usize = 300;

/// The ports a browser leaves out when it serializes an origin.
fn default_port(scheme: &[u8]) -> Option<u16> {
    match scheme {
        b"http" | b"ws" => Some(80),
        b"https" | b"wss" => Some(443),
        b"ftp" => Some(21),
        _ => None,
    }
}

/// Which ports an `allow_origins` pattern accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Port {
    /// None written: the scheme's default port only.
    Default,
    Exact(u16),
    /// `:*`: any port, or none.
    Any,
}

impl Port {
    fn accepts(self, port: Option<u16>) -> bool {
        match self {
            Port::Default => port.is_none(),
            Port::Exact(p) => port == Some(p),
            Port::Any => true,
        }
    }
}

/// One `allow_origins` entry, validated and normalized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Entry {
    /// `*`: every origin.
    Any,
    /// `null`: the opaque origin of sandboxed documents, `file:` pages and some redirects.
    Null,
    /// One origin, serialized the way browsers do (`https://app.example.com:8443`).
    Exact {
        scheme: String,
        host: String,
        serialized: String,
    },
    /// `scheme://*.suffix[:port]`: every subdomain of `suffix`, at any depth.
    Subdomains {
        scheme: String,
        suffix: String,
        port: Port,
    },
    /// `scheme://host:*`: one host on any port.
    AnyPort { scheme: String, host: String },
}

impl Entry {
    /// Reads one `allow_origins` entry, normalizing case and default ports.
    pub(crate) fn parse(entry: &str) -> Result<Entry, Problem> {
        match entry {
            "" => return Err(Problem::EmptyString),
            "*" => return Ok(Entry::Any),
            "null" => return Ok(Entry::Null),
            _ => {}
        }
        if !entry.is_ascii() {
            return Err(Problem::NonAsciiHost);
        }
        let entry = entry.to_ascii_lowercase();
        // The first "://", found bytewise: `split_once("://")` would bring
        // the general substring search into the Envoy module, and `get`
        // (not indexing) keeps out the panic for a non-char boundary.
        let (scheme, rest) = (entry.as_bytes().windows(3))
            .position(|w| w == b"://")
            .and_then(|sep| Some((entry.get(..sep)?, entry.get(sep + 3..)?)))
            .ok_or(Problem::MissingScheme)?;
        if scheme.contains('*') {
            return Err(Problem::MisplacedWildcard);
        }
        if !is_scheme(scheme.as_bytes()) {
            return Err(Problem::BadScheme);
        }
        if rest.contains('@') {
            return Err(Problem::OriginWithUserinfo);
        }
        if let Some(i) = rest.find(['/', '?', '#']) {
            return Err(match rest.as_bytes()[i] {
                b'/' => Problem::OriginWithPath,
                b'?' => Problem::OriginWithQuery,
                _ => Problem::OriginWithFragment,
            });
        }
        let (host, port) = split_host_port(rest.as_bytes()).ok_or(Problem::BadHost)?;
        let host = core::str::from_utf8(host).map_err(|_| Problem::BadHost)?;
        let port = match port {
            None => Port::Default,
            Some(b"*") => Port::Any,
            Some(digits) => match parse_port(digits) {
                Some(p) if Some(p) == default_port(scheme.as_bytes()) => Port::Default,
                Some(p) => Port::Exact(p),
                None => return Err(Problem::BadPort),
            },
        };
        let scheme = String::from(scheme);
        if let Some(suffix) = host.strip_prefix("*.") {
            if suffix.contains('*') {
                return Err(Problem::MisplacedWildcard);
            }
            if !is_domain(suffix.as_bytes()) {
                return Err(if suffix.is_empty() {
                    Problem::MisplacedWildcard
                } else {
                    Problem::BadHost
                });
            }
            if is_ipv4(suffix.as_bytes()) || ends_in_number(suffix.as_bytes()) {
                return Err(Problem::WildcardCoversAddresses);
            }
            if !suffix.contains('.') {
                return Err(Problem::WildcardCoversTopLevelDomain);
            }
            return Ok(Entry::Subdomains {
                scheme,
                suffix: String::from(suffix),
                port,
            });
        }
        if host.contains('*') {
            return Err(Problem::MisplacedWildcard);
        }
        if !is_host(host.as_bytes()) {
            return Err(Problem::BadHost);
        }
        let host = String::from(host);
        Ok(match port {
            Port::Any => Entry::AnyPort { scheme, host },
            Port::Default => Entry::Exact {
                serialized: format!("{scheme}://{host}"),
                scheme,
                host,
            },
            Port::Exact(p) => Entry::Exact {
                serialized: format!("{scheme}://{host}:{p}"),
                scheme,
                host,
            },
        })
    }

    /// Whether a browser can be tricked into sending this origin by anyone on
    /// the network path: plain `http` to a host that is not loopback.
    pub(crate) fn is_plain_http_off_loopback(&self) -> bool {
        match self {
            Entry::Any | Entry::Null => false,
            Entry::Exact { scheme, host, .. } | Entry::AnyPort { scheme, host } => {
                scheme == "http" && !is_loopback(host)
            }
            Entry::Subdomains { scheme, .. } => scheme == "http",
        }
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host == "[::1]" || (host.starts_with("127.") && is_ipv4(host.as_bytes()))
}

/// The compiled `allow_origins` of one policy.
#[derive(Debug)]
pub(crate) enum AllowOrigins {
    /// `["*"]`: every request is allowed and answered `*`.
    Any,
    List(OriginSet),
}

/// Exact origins and patterns in two hash maps, so that a lookup costs a few
/// hashes whatever the list's size: an exact origin filed under its
/// serialization, a pattern under the host or suffix it names. Patterns stay
/// apart so that the lookups of a host's suffixes probe a small table, not
/// one as large as the list of origins. Both maps have one type, which keeps
/// the Envoy module small (each map type brings its own copy of hashbrown's
/// code); the exact origins simply file no patterns.
#[derive(Debug, Default)]
pub(crate) struct OriginSet {
    exact: Table,
    patterns: Table,
    /// Whether any `scheme://host:*` entry is filed.
    any_port: bool,
    /// Whether any `scheme://*.suffix` entry is filed.
    subdomains: bool,
}

/// Keys to the patterns filed under them.
type Table = HashMap<Box<[u8]>, Vec<Pattern>>;

/// A `scheme://host:*` or `scheme://*.suffix[:port]` entry, filed under its
/// host or suffix.
#[derive(Debug)]
struct Pattern {
    /// `*.suffix`: the key is a proper suffix of the origin's host, not the
    /// host itself.
    subdomains: bool,
    scheme: Box<[u8]>,
    /// [`Port::Any`] for `host:*`.
    port: Port,
}

impl AllowOrigins {
    pub(crate) fn compile(entries: Vec<Entry>) -> AllowOrigins {
        if entries.contains(&Entry::Any) {
            return AllowOrigins::Any;
        }
        let mut set = OriginSet::default();
        for entry in entries {
            let (key, pattern) = match entry {
                Entry::Any => continue,
                Entry::Null => (String::from("null"), None),
                Entry::Exact { serialized, .. } => (serialized, None),
                Entry::AnyPort { scheme, host } => {
                    set.any_port = true;
                    let pattern = Pattern {
                        subdomains: false,
                        scheme: scheme.into_bytes().into_boxed_slice(),
                        port: Port::Any,
                    };
                    (host, Some(pattern))
                }
                Entry::Subdomains {
                    scheme,
                    suffix,
                    port,
                } => {
                    set.subdomains = true;
                    let pattern = Pattern {
                        subdomains: true,
                        scheme: scheme.into_bytes().into_boxed_slice(),
                        port,
                    };
                    (suffix, Some(pattern))
                }
            };
            let key = key.into_bytes().into_boxed_slice();
            match pattern {
                Some(pattern) => set.patterns.entry(key).or_default().push(pattern),
                None => {
                    set.exact.insert(key, Vec::new());
                }
            }
        }
        AllowOrigins::List(set)
    }

    /// Whether a request's `Origin` value is allowed. Under `*` every value
    /// is; otherwise only a strictly serialized origin (or `null`) can match.
    pub(crate) fn allows(&self, origin: &[u8]) -> bool {
        match self {
            AllowOrigins::Any => true,
            AllowOrigins::List(set) => set.allows(origin),
        }
    }
}

impl OriginSet {
    fn allows(&self, origin: &[u8]) -> bool {
        if origin.len() > MAX_ORIGIN_LEN {
            return false;
        }
        if self.exact.contains_key(origin) {
            return true;
        }
        if !self.any_port && !self.subdomains {
            return false;
        }
        // Most origins that get this far match no pattern: look the parts up
        // first, and check that the origin is serialized only on a match.
        let Some(origin) = RequestOrigin::split(origin) else {
            return false;
        };
        let any_port = self.any_port && self.pattern_fits(origin.host, false, &origin);
        (any_port || self.subdomain_rule_fits(&origin)) && origin.is_serialized()
    }

    fn subdomain_rule_fits(&self, origin: &RequestOrigin) -> bool {
        if !self.subdomains {
            return false;
        }
        // Every proper suffix that starts after a dot: `a.b.example.com`
        // tries `b.example.com`, `example.com` and `com`.
        origin
            .host
            .iter()
            .enumerate()
            .filter(|&(_, &b)| b == b'.')
            .any(|(dot, _)| self.pattern_fits(&origin.host[dot + 1..], true, origin))
    }

    /// Whether a pattern of this kind filed under `key` accepts the origin.
    fn pattern_fits(&self, key: &[u8], subdomains: bool, origin: &RequestOrigin) -> bool {
        self.patterns.get(key).is_some_and(|patterns| {
            patterns.iter().any(|p| {
                p.subdomains == subdomains
                    && *p.scheme == *origin.scheme
                    && p.port.accepts(origin.port)
            })
        })
    }
}

/// A request's `Origin` taken apart. It matches only if it is exactly what a
/// browser serializes (lowercase, no default port, no path): the port is
/// checked as it is split off, the rest by [`RequestOrigin::is_serialized`].
struct RequestOrigin<'a> {
    scheme: &'a [u8],
    host: &'a [u8],
    port: Option<u16>,
}

impl<'a> RequestOrigin<'a> {
    /// `scheme://host[:port]` taken apart, the port checked (no leading
    /// zero, not the scheme's default), the scheme and host not yet.
    fn split(origin: &'a [u8]) -> Option<RequestOrigin<'a>> {
        // A scheme has no ':', so the first one must start "://".
        let colon = origin.iter().position(|&b| b == b':')?;
        let (scheme, rest) = (&origin[..colon], origin[colon..].strip_prefix(b"://")?);
        let (host, port) = split_host_port(rest)?;
        let port = match port {
            None => None,
            Some(digits) => {
                let p = parse_port(digits)?;
                if digits[0] == b'0' || Some(p) == default_port(scheme) {
                    return None;
                }
                Some(p)
            }
        };
        Some(RequestOrigin { scheme, host, port })
    }

    /// Scheme and host valid and lowercase, as browsers write them.
    fn is_serialized(&self) -> bool {
        is_scheme(self.scheme)
            && !self.scheme.iter().any(u8::is_ascii_uppercase)
            && is_host(self.host)
            && !self.host.iter().any(u8::is_ascii_uppercase)
    }
}

/// Whether `origin` is the request's own origin: same scheme, host and port
/// as the URL it was sent to.
pub(crate) fn is_same_origin(origin: &[u8], scheme: &[u8], authority: &[u8]) -> bool {
    let Some(origin) = RequestOrigin::split(origin) else {
        return false;
    };
    let Some((host, port)) = split_host_port(authority) else {
        return false;
    };
    let port = match port {
        None => None,
        Some(digits) => match parse_port(digits) {
            Some(p) if Some(p) == default_port(origin.scheme) => None,
            Some(p) => Some(p),
            None => return false,
        },
    };
    origin.scheme.eq_ignore_ascii_case(scheme)
        && origin.host.eq_ignore_ascii_case(host)
        && origin.port == port
        && origin.is_serialized()
}

/// Splits `host[:port]`, where host may be a bracketed IPv6 literal.
pub(crate) fn split_host_port(authority: &[u8]) -> Option<(&[u8], Option<&[u8]>)> {
    if authority.first() == Some(&b'[') {
        let end = authority.iter().position(|&b| b == b']')?;
        let (host, after) = authority.split_at(end + 1);
        return match after {
            [] => Some((host, None)),
            [b':', port @ ..] => Some((host, Some(port))),
            _ => None,
        };
    }
    match authority.iter().rposition(|&b| b == b':') {
        Some(colon) => Some((&authority[..colon], Some(&authority[colon + 1..]))),
        None => Some((authority, None)),
    }
}

fn parse_port(digits: &[u8]) -> Option<u16> {
    if digits.is_empty() || digits.len() > 5 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let port = digits
        .iter()
        .fold(0u32, |n, &d| n * 10 + u32::from(d - b'0'));
    (1..=65535).contains(&port).then_some(port as u16)
}

/// `scheme` of RFC 3986: a letter, then letters, digits, `+`, `-` or `.`.
fn is_scheme(s: &[u8]) -> bool {
    matches!(s.first(), Some(b) if b.is_ascii_alphabetic())
        && s.iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

/// A domain name, an IPv4 address or a bracketed IPv6 literal.
pub(crate) fn is_host(host: &[u8]) -> bool {
    if let [b'[', inner @ .., b']'] = host {
        return inner.contains(&b':')
            && inner
                .iter()
                .all(|&b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
    }
    is_domain(host) && (!ends_in_number(host) || is_ipv4(host))
}

/// Dot-separated labels of letters, digits, `-` and `_`, at most 253 bytes.
pub(crate) fn is_domain(host: &[u8]) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.split(|&b| b == b'.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .iter()
                    .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// A host whose last label is a number is an IPv4 address to a browser.
fn ends_in_number(host: &[u8]) -> bool {
    host.rsplit(|&b| b == b'.')
        .next()
        .is_some_and(|last| !last.is_empty() && last.iter().all(u8::is_ascii_digit))
}

/// Four decimal octets, written the way browsers serialize them.
fn is_ipv4(host: &[u8]) -> bool {
    let mut octets = 0;
    for part in host.split(|&b| b == b'.') {
        octets += 1;
        let canonical = match part {
            [b'0'] => true,
            [b'1'..=b'9', rest @ ..] => rest.len() <= 2 && rest.iter().all(u8::is_ascii_digit),
            _ => false,
        };
        if !canonical || parse_port(part).is_some_and(|n| n > 255) {
            return false;
        }
    }
    octets == 4
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn compiled(entries: &[&str]) -> AllowOrigins {
        AllowOrigins::compile(entries.iter().map(|e| Entry::parse(e).unwrap()).collect())
    }

    #[test]
    fn entries_are_normalized() {
        let cases = [
            ("https://App.Example.com:443", "https://app.example.com"),
            ("HTTP://localhost:80", "http://localhost"),
            ("https://a.example.com:8443", "https://a.example.com:8443"),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
            ("http://[::1]:3000", "http://[::1]:3000"),
            ("chrome-extension://abcdef", "chrome-extension://abcdef"),
        ];
        for (entry, serialized) in cases {
            match Entry::parse(entry) {
                Ok(Entry::Exact { serialized: s, .. }) => assert_eq!(s, serialized, "{entry}"),
                other => panic!("{entry}: {other:?}"),
            }
        }
    }

    #[test]
    fn malformed_entries_are_refused() {
        let cases = [
            ("", Problem::EmptyString),
            ("app.example.com", Problem::MissingScheme),
            ("https://app.example.com/", Problem::OriginWithPath),
            ("https://app.example.com/x", Problem::OriginWithPath),
            ("https://app.example.com?q", Problem::OriginWithQuery),
            ("https://app.example.com#f", Problem::OriginWithFragment),
            ("https://user@app.example.com", Problem::OriginWithUserinfo),
            ("https://bücher.example", Problem::NonAsciiHost),
            ("https://*.com", Problem::WildcardCoversTopLevelDomain),
            ("https://*", Problem::MisplacedWildcard),
            ("https://*.", Problem::MisplacedWildcard),
            ("https://a*.example.com", Problem::MisplacedWildcard),
            ("https://*example.com", Problem::MisplacedWildcard),
            ("https://a.*.example.com", Problem::MisplacedWildcard),
            ("*://a.example.com", Problem::MisplacedWildcard),
            ("https://*.0.0.1", Problem::WildcardCoversAddresses),
            ("https://a.example.com:0", Problem::BadPort),
            ("https://a.example.com:65536", Problem::BadPort),
            ("https://a.example.com:http", Problem::BadPort),
            ("https://a..example.com", Problem::BadHost),
            ("https://", Problem::BadHost),
            ("https://1.2.3", Problem::BadHost),
            ("1http://a.com", Problem::BadScheme),
        ];
        for (entry, problem) in cases {
            assert_eq!(Entry::parse(entry), Err(problem), "{entry}");
        }
    }

    #[test]
    fn plain_http_off_loopback() {
        for insecure in [
            "http://example.com",
            "http://*.example.com",
            "http://10.0.0.1:*",
        ] {
            assert!(
                Entry::parse(insecure).unwrap().is_plain_http_off_loopback(),
                "{insecure}"
            );
        }
        for fine in [
            "http://localhost:*",
            "http://127.0.0.1:8080",
            "http://127.9.9.9",
            "http://[::1]:3000",
            "https://a.com",
            "null",
        ] {
            assert!(
                !Entry::parse(fine).unwrap().is_plain_http_off_loopback(),
                "{fine}"
            );
        }
    }

    #[test]
    fn matching() {
        let allow = compiled(&[
            "https://app.example.com",
            "https://*.example.com",
            "http://localhost:*",
            "https://*.internal.example.net:8443",
            "null",
        ]);
        let cases: &[(&[u8], bool)] = &[
            (b"https://app.example.com", true),
            (b"https://a.example.com", true),
            (b"https://a.b.example.com", true),
            (b"https://example.com", false),
            (b"https://evilexample.com", false),
            (b"https://example.com.evil.net", false),
            (b"https://a.example.com:8443", false),
            (b"http://a.example.com", false),
            (b"http://localhost", true),
            (b"http://localhost:3000", true),
            (b"https://localhost:3000", false),
            (b"http://localhost.evil.com:3000", false),
            (b"https://x.internal.example.net:8443", true),
            (b"https://x.internal.example.net", false),
            (b"null", true),
            (b"NULL", false),
            (b"https://APP.example.com", false),
            (b"https://app.example.com/", false),
            (b"https://app.example.com:443", false),
            (b"https://a.example.com:443", false),
            (b"http://localhost:080", false),
            (b"https://a.example.com, https://b.example.com", false),
            (b"https://\xff.example.com", false),
            (b"", false),
        ];
        for &(origin, allowed) in cases {
            assert_eq!(
                allow.allows(origin),
                allowed,
                "{}",
                String::from_utf8_lossy(origin)
            );
        }
        assert!(compiled(&["*"]).allows(b"anything at all"));
    }

    #[test]
    fn kinds_filed_under_one_key_stay_apart() {
        // `null` is both the opaque origin and a host; `example.com` both a
        // host and a suffix.
        let allow = compiled(&["http://null:*", "https://example.com:*"]);
        assert!(!allow.allows(b"null"));
        assert!(allow.allows(b"http://null:8080"));
        assert!(allow.allows(b"https://example.com"));
        assert!(!allow.allows(b"https://a.example.com"));
        let allow = compiled(&["null", "https://*.example.com"]);
        assert!(allow.allows(b"null"));
        assert!(!allow.allows(b"http://null"));
        assert!(!allow.allows(b"https://example.com"));
        assert!(allow.allows(b"https://a.example.com"));
    }

    #[test]
    fn long_origins_never_match() {
        let mut long = vec![b'a'; 8192];
        long.splice(0..0, b"https://".iter().copied());
        long.extend_from_slice(b".example.com");
        assert!(!compiled(&["https://*.example.com"]).allows(&long));
    }

    #[test]
    fn same_origin() {
        assert!(is_same_origin(
            b"http://api.example.com",
            b"http",
            b"api.example.com"
        ));
        assert!(is_same_origin(
            b"http://api.example.com",
            b"http",
            b"API.example.com:80"
        ));
        assert!(is_same_origin(
            b"https://api.example.com:8443",
            b"https",
            b"api.example.com:8443"
        ));
        assert!(!is_same_origin(
            b"https://api.example.com",
            b"http",
            b"api.example.com"
        ));
        assert!(!is_same_origin(
            b"http://api.example.com:81",
            b"http",
            b"api.example.com"
        ));
        assert!(!is_same_origin(
            b"http://app.example.com",
            b"http",
            b"api.example.com"
        ));
        assert!(!is_same_origin(b"null", b"http", b"null"));
    }
}
