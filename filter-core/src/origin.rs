//! Origins: the `allow_origins` entries of a config, compiled so that
//! matching a request's `Origin` costs the same with one entry or 10,000,
//! and the strict reading of a request's `Origin`.

use crate::error::Problem;
use crate::psl;
use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;
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
    /// `scheme://prefix*suffix.rest[:port]`: one `*` inside the first label,
    /// standing for one or more of `[a-z0-9-]`, never a dot.
    Glob {
        scheme: String,
        prefix: String,
        suffix: String,
        rest: String,
        port: Port,
    },
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
            return parse_glob(scheme, host, port);
        }
        if host.starts_with('[') {
            let canonical = canonical_ipv6(host).ok_or(Problem::BadIpv6)?;
            if canonical != host {
                return Err(Problem::NonCanonicalIpv6 {
                    canonical: format!("{scheme}://{canonical}{port}"),
                });
            }
        } else if !is_host(host.as_bytes()) {
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
            Entry::Subdomains { scheme, .. } | Entry::Glob { scheme, .. } => scheme == "http",
        }
    }

    /// The public suffix (Public Suffix List) this pattern spans, if it
    /// covers sites that different owners registered: `*.github.io`,
    /// `pr-*.co.uk`.
    /// `memo` speeds up the entries after the first.
    pub(crate) fn spanned_public_suffix(&self, memo: &mut psl::Memo) -> Option<String> {
        match self {
            Entry::Subdomains { suffix, .. } => psl::suffix_under_subdomains(suffix, memo),
            Entry::Glob { rest, .. } => psl::suffix_under_glob(rest, memo),
            _ => None,
        }
    }
}

/// The entry as the engine reads it: scheme and host lowercase, the default
/// port dropped (`https://*.example.com:*`, `https://pr-*.example.com`).
impl core::fmt::Display for Entry {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Entry::Any => f.write_str("*"),
            Entry::Null => f.write_str("null"),
            Entry::Exact { serialized, .. } => f.write_str(serialized),
            Entry::Subdomains {
                scheme,
                suffix,
                port,
            } => write!(f, "{scheme}://*.{suffix}{port}"),
            Entry::AnyPort { scheme, host } => write!(f, "{scheme}://{host}:*"),
            Entry::Glob {
                scheme,
                prefix,
                suffix,
                rest,
                port,
            } => write!(f, "{scheme}://{prefix}*{suffix}.{rest}{port}"),
        }
    }
}

/// `:port` as written after a host: nothing for the default port.
impl core::fmt::Display for Port {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Port::Default => Ok(()),
            Port::Exact(p) => write!(f, ":{p}"),
            Port::Any => f.write_str(":*"),
        }
    }
}

/// The public suffix that an `allow_origins` entry's wildcard or glob spans
/// (`"https://*.github.io"` gives `github.io`), if any. With
/// `allow_credentials` such an entry is refused; without, `cors-filter check`
/// warns about it. `None` for any other entry, valid or not.
pub fn covers_public_suffix(entry: &str) -> Option<String> {
    Entry::parse(entry)
        .ok()?
        .spanned_public_suffix(&mut psl::Memo::default())
}

/// Whether an `allow_origins` entry names the user's own machine
/// (`localhost`, `127.x.x.x` or `[::1]`, any scheme and port): the hosts
/// where the engine accepts plain `http` with credentials, and that
/// `cors-filter check --production` warns about. `false` for any other
/// entry, valid or not.
pub fn is_loopback_origin(entry: &str) -> bool {
    match Entry::parse(entry) {
        Ok(Entry::Exact { host, .. } | Entry::AnyPort { host, .. }) => is_loopback(&host),
        _ => false,
    }
}

/// `prefix*suffix.rest`: `host` holds a `*`, which must be the only one and
/// sit inside the first label, beside fixed text.
fn parse_glob(scheme: String, host: &str, port: Port) -> Result<Entry, Problem> {
    let (label, rest) = host.split_once('.').ok_or(Problem::MisplacedWildcard)?;
    if rest.contains('*') {
        return Err(Problem::MisplacedWildcard);
    }
    let (prefix, suffix) = label.split_once('*').ok_or(Problem::MisplacedWildcard)?;
    if suffix.contains('*') {
        return Err(Problem::TwoWildcardsInLabel);
    }
    let fixed = |s: &str| s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !fixed(prefix) || !fixed(suffix) || label.len() > 63 || !is_domain(rest.as_bytes()) {
        return Err(Problem::BadHost);
    }
    if is_ipv4(rest.as_bytes()) || ends_in_number(rest.as_bytes()) {
        return Err(Problem::WildcardCoversAddresses);
    }
    Ok(Entry::Glob {
        scheme,
        prefix: String::from(prefix),
        suffix: String::from(suffix),
        rest: String::from(rest),
        port,
    })
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
/// serialization, a pattern under the host, suffix or rest of the host it
/// names (`pr-*.preview.example.com` under `preview.example.com`). Patterns
/// stay apart so that the lookups of a host's suffixes probe a small table,
/// not one as large as the list of origins. Both maps have one type, which
/// keeps the Envoy module small (each map type brings its own copy of
/// hashbrown's code); the exact origins simply file no patterns.
#[derive(Debug, Default)]
pub(crate) struct OriginSet {
    exact: Table,
    patterns: Table,
    /// Whether any `scheme://host:*` entry is filed.
    any_port: bool,
    /// Whether any `scheme://*.suffix` or glob entry is filed.
    under_suffix: bool,
}

/// Keys to the patterns filed under them.
type Table = HashMap<Box<[u8]>, Vec<Pattern>>;

/// A pattern entry, filed under the host, suffix or rest it names.
#[derive(Debug)]
struct Pattern {
    kind: Kind,
    scheme: Box<[u8]>,
    /// [`Port::Any`] for `host:*`.
    port: Port,
}

#[derive(Debug)]
enum Kind {
    /// `host:*`: the key is the origin's host.
    AnyPort,
    /// `*.suffix`: the key is a proper suffix of the origin's host.
    Subdomains,
    /// `prefix*suffix.rest`: the key is the host after its first label.
    Glob {
        prefix: Box<[u8]>,
        suffix: Box<[u8]>,
    },
}

impl Kind {
    /// Whether a glob's first label fits: the fixed text around one or more
    /// of `[a-z0-9-]`.
    fn glob_fits(prefix: &[u8], suffix: &[u8], label: &[u8]) -> bool {
        label.len() > prefix.len() + suffix.len()
            && label.starts_with(prefix)
            && label.ends_with(suffix)
            && label[prefix.len()..label.len() - suffix.len()]
                .iter()
                .all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    }
}

impl AllowOrigins {
    pub(crate) fn compile(entries: Vec<Entry>) -> AllowOrigins {
        if entries.contains(&Entry::Any) {
            return AllowOrigins::Any;
        }
        let mut set = OriginSet::default();
        for entry in entries {
            let (key, kind, scheme, port) = match entry {
                Entry::Any => continue,
                Entry::Null => {
                    set.exact.insert(Box::from(&b"null"[..]), Vec::new());
                    continue;
                }
                Entry::Exact { serialized, .. } => {
                    set.exact.insert(serialized.into_bytes().into(), Vec::new());
                    continue;
                }
                Entry::AnyPort { scheme, host } => {
                    set.any_port = true;
                    (host, Kind::AnyPort, scheme, Port::Any)
                }
                Entry::Subdomains {
                    scheme,
                    suffix,
                    port,
                } => {
                    set.under_suffix = true;
                    (suffix, Kind::Subdomains, scheme, port)
                }
                Entry::Glob {
                    scheme,
                    prefix,
                    suffix,
                    rest,
                    port,
                } => {
                    set.under_suffix = true;
                    let kind = Kind::Glob {
                        prefix: prefix.into_bytes().into(),
                        suffix: suffix.into_bytes().into(),
                    };
                    (rest, kind, scheme, port)
                }
            };
            let pattern = Pattern {
                kind,
                scheme: scheme.into_bytes().into(),
                port,
            };
            let key = key.into_bytes().into_boxed_slice();
            set.patterns.entry(key).or_default().push(pattern);
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
        if !self.any_port && !self.under_suffix {
            return false;
        }
        // Most origins that get this far match no pattern: look the parts up
        // first, and check that the origin is serialized only on a match.
        let Some(origin) = RequestOrigin::split(origin) else {
            return false;
        };
        let any_port = self.any_port
            && self.pattern_fits(origin.host, &origin, |kind| matches!(kind, Kind::AnyPort));
        (any_port || self.suffix_rule_fits(&origin)) && origin.is_serialized()
    }

    fn suffix_rule_fits(&self, origin: &RequestOrigin) -> bool {
        if !self.under_suffix {
            return false;
        }
        // Every proper suffix that starts after a dot: `a.b.example.com`
        // tries `b.example.com` (for `*.` and globs, which look at `a`),
        // `example.com` and `com` (for `*.` only).
        let host = origin.host;
        let mut dots = host.iter().enumerate().filter(|&(_, &b)| b == b'.');
        let Some((first, _)) = dots.next() else {
            return false;
        };
        let label = &host[..first];
        self.pattern_fits(&host[first + 1..], origin, |kind| match kind {
            Kind::AnyPort => false,
            Kind::Subdomains => true,
            Kind::Glob { prefix, suffix } => Kind::glob_fits(prefix, suffix, label),
        }) || dots.any(|(dot, _)| {
            self.pattern_fits(&host[dot + 1..], origin, |kind| {
                matches!(kind, Kind::Subdomains)
            })
        })
    }

    /// Whether a pattern filed under `key`, of a kind that `fits`, accepts
    /// the origin's scheme and port.
    fn pattern_fits(
        &self,
        key: &[u8],
        origin: &RequestOrigin,
        fits: impl Fn(&Kind) -> bool,
    ) -> bool {
        self.patterns.get(key).is_some_and(|patterns| {
            patterns.iter().any(|p| {
                *p.scheme == *origin.scheme && p.port.accepts(origin.port) && fits(&p.kind)
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

/// A bracketed IPv6 literal (`[0:0::1]`) written the way browsers serialize
/// it (`[::1]`), or `None` when it is not a valid address. Browsers follow
/// RFC 5952 but never write an embedded IPv4 part (`[::ffff:1.2.3.4]` is
/// sent as `[::ffff:102:304]`); zone identifiers are not allowed in URLs.
pub(crate) fn canonical_ipv6(literal: &str) -> Option<String> {
    let inner = literal.strip_prefix('[')?.strip_suffix(']')?;
    let groups = parse_ipv6(inner.as_bytes())?;
    // The first longest run of two or more zero groups becomes `::`.
    let (mut run_start, mut run_len) = (0, 0);
    let mut i = 0;
    while i < 8 {
        let start = i;
        while i < 8 && groups[i] == 0 {
            i += 1;
        }
        if i - start > run_len {
            (run_start, run_len) = (start, i - start);
        }
        i += 1;
    }
    let mut out = String::from("[");
    let mut i = 0;
    while i < 8 {
        if run_len >= 2 && i == run_start {
            out.push_str("::");
            i += run_len;
            continue;
        }
        if i > 0 && !out.ends_with("::") {
            out.push(':');
        }
        let _ = write!(out, "{:x}", groups[i]);
        i += 1;
    }
    out.push(']');
    Some(out)
}

/// The eight groups of an IPv6 address in any RFC 4291 text form (hex
/// groups, one `::`, a dotted IPv4 tail), no brackets.
pub(crate) fn parse_ipv6(text: &[u8]) -> Option<[u16; 8]> {
    let mut groups = [0u16; 8];
    let compressed = text.windows(2).position(|w| w == b"::");
    let Some(at) = compressed else {
        return (parse_groups(text, &mut groups, true)? == 8).then_some(groups);
    };
    let (head, tail) = (&text[..at], &text[at + 2..]);
    let mut tail_groups = [0u16; 8];
    let n_head = parse_groups(head, &mut groups, false)?;
    let n_tail = parse_groups(tail, &mut tail_groups, true)?;
    if n_head + n_tail > 7 {
        return None;
    }
    groups[8 - n_tail..].copy_from_slice(&tail_groups[..n_tail]);
    Some(groups)
}

/// Colon-separated groups of one to four hex digits into `out`, the last
/// one possibly a dotted IPv4 address (two groups); how many were written.
fn parse_groups(text: &[u8], out: &mut [u16; 8], ipv4_tail: bool) -> Option<usize> {
    if text.is_empty() {
        return Some(0);
    }
    let mut n = 0;
    let mut pieces = text.split(|&b| b == b':').peekable();
    while let Some(piece) = pieces.next() {
        if ipv4_tail && pieces.peek().is_none() && piece.contains(&b'.') {
            if !is_ipv4(piece) || n > 6 {
                return None;
            }
            let mut octets = piece
                .split(|&b| b == b'.')
                .map(|o| o.iter().fold(0u16, |v, &d| v * 10 + u16::from(d - b'0')));
            for _ in 0..2 {
                out[n] = (octets.next()? << 8) | octets.next()?;
                n += 1;
            }
            return Some(n);
        }
        if piece.is_empty() || piece.len() > 4 || n == 8 {
            return None;
        }
        out[n] = piece.iter().try_fold(0u16, |v, &d| {
            Some(v << 4 | u16::from(char::from(d).to_digit(16)? as u8))
        })?;
        n += 1;
    }
    Some(n)
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
    use alloc::string::ToString;
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
            ("https://a*b*.example.com", Problem::TwoWildcardsInLabel),
            ("https://**.example.com", Problem::TwoWildcardsInLabel),
            ("https://pr-*", Problem::MisplacedWildcard),
            ("https://pr-*.*.example.com", Problem::MisplacedWildcard),
            ("https://pr_*.example.com", Problem::BadHost),
            ("https://pr-*.1.2.3", Problem::WildcardCoversAddresses),
            ("http://[1:2]", Problem::BadIpv6),
            ("http://[:::::]", Problem::BadIpv6),
            ("http://[::1%25eth0]", Problem::BadIpv6),
            ("http://[1:2:3:4:5:6:7:8:9]", Problem::BadIpv6),
            ("http://[1::2::3]", Problem::BadIpv6),
            ("http://[12345::]", Problem::BadIpv6),
            ("http://[::1.2.3]", Problem::BadIpv6),
            ("http://[g::]", Problem::BadIpv6),
            ("http://[]", Problem::BadIpv6),
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
    fn ipv6_in_canonical_form_only() {
        let cases = [
            ("http://[0:0:0:0:0:0:0:1]:3000", "http://[::1]:3000"),
            ("http://[::0001]", "http://[::1]"),
            ("https://[2001:DB8::1]", "https://[2001:db8::1]"),
            (
                "https://[2001:db8:0:0:1:0:0:1]",
                "https://[2001:db8::1:0:0:1]",
            ),
            ("https://[2001:db8::0:1]", "https://[2001:db8::1]"),
            (
                "https://[2001:db8:0:1:1:1:1:1]",
                "https://[2001:db8:0:1:1:1:1:1]",
            ),
            ("https://[::ffff:1.2.3.4]", "https://[::ffff:102:304]"),
            ("https://[0::]:*", "https://[::]:*"),
        ];
        for (entry, canonical) in cases {
            let expected = if entry.to_ascii_lowercase() == canonical {
                Ok(String::from(canonical))
            } else {
                Err(Problem::NonCanonicalIpv6 {
                    canonical: String::from(canonical),
                })
            };
            assert_eq!(
                Entry::parse(entry).map(|e| e.to_string()),
                expected,
                "{entry}"
            );
        }
        for canonical in [
            "http://[::1]",
            "http://[1::]",
            "http://[1:2:3:4:5:6:7:8]",
            "http://[1:0:2::]",
        ] {
            assert_eq!(
                Entry::parse(canonical).map(|e| e.to_string()).as_deref(),
                Ok(canonical)
            );
        }
        let allow = compiled(&["http://[::1]:3000", "http://[2001:db8::1]:*"]);
        assert!(allow.allows(b"http://[::1]:3000"));
        assert!(!allow.allows(b"http://[0:0:0:0:0:0:0:1]:3000"));
        assert!(allow.allows(b"http://[2001:db8::1]:8080"));
        assert!(allow.allows(b"http://[2001:db8::1]"));
        assert!(!allow.allows(b"http://[2001:DB8::1]"));
    }

    #[test]
    fn single_label_globs() {
        let allow = compiled(&[
            "https://pr-*.preview.example.com",
            "https://myapp-*-team.example.net",
            "https://*-staging.example.org:8443",
        ]);
        let cases: &[(&[u8], bool)] = &[
            (b"https://pr-1.preview.example.com", true),
            (b"https://pr-abc-9.preview.example.com", true),
            (b"https://pr-.preview.example.com", false),
            (b"https://pr-a.b.preview.example.com", false),
            (b"https://pr-a_b.preview.example.com", false),
            (b"https://PR-1.preview.example.com", false),
            (b"https://xpr-1.preview.example.com", false),
            (b"https://pr-1.preview.example.com.evil.net", false),
            (b"https://pr-1.preview.example.com:444", false),
            (b"http://pr-1.preview.example.com", false),
            (b"https://myapp-x1-team.example.net", true),
            (b"https://myapp--team.example.net", false),
            (b"https://myapp-a.b-team.example.net", false),
            (b"https://myapp-x-team.example.net.", false),
            (b"https://a-staging.example.org:8443", true),
            (b"https://a-staging.example.org", false),
            (b"https://-staging.example.org:8443", false),
        ];
        for &(origin, allowed) in cases {
            assert_eq!(
                allow.allows(origin),
                allowed,
                "{}",
                String::from_utf8_lossy(origin)
            );
        }
    }

    #[test]
    fn loopback_origins() {
        for entry in [
            "http://localhost:3000",
            "https://127.0.0.1",
            "http://[::1]:*",
        ] {
            assert!(is_loopback_origin(entry), "{entry}");
        }
        for entry in [
            "http://example.com",
            "http://*.localhost",
            "null",
            "*",
            "localhost",
        ] {
            assert!(!is_loopback_origin(entry), "{entry}");
        }
    }

    #[test]
    fn public_suffixes_spanned() {
        let cases = [
            ("https://*.github.io", Some("github.io")),
            ("https://*.co.uk", Some("co.uk")),
            ("https://*.vercel.app", Some("vercel.app")),
            ("https://myapp-*.vercel.app", Some("vercel.app")),
            ("https://pr-*.com", Some("com")),
            ("https://*.myteam.github.io", None),
            ("https://*.example.co.uk", None),
            ("https://pr-*.preview.example.com", None),
            ("https://app.github.io", None),
            ("https://*.com", None),
            ("not an origin", None),
        ];
        for (entry, suffix) in cases {
            assert_eq!(covers_public_suffix(entry).as_deref(), suffix, "{entry}");
        }
    }

    #[test]
    fn plain_http_off_loopback() {
        for insecure in [
            "http://example.com",
            "http://*.example.com",
            "http://10.0.0.1:*",
            "http://pr-*.example.com",
            "http://[2001:db8::1]",
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
