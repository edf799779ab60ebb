//! Origins as the tools read them: the engine's normalized `allow_origins`
//! entries split into parts, and a request's `Origin` read leniently so that
//! `explain` can say what is wrong with it instead of only that it failed.

/// A normalized `allow_origins` entry (see `filter_core::normalize_origin_entry`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Any,
    Null,
    Origin {
        scheme: String,
        host: Host,
        port: Port,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    Exact(String),
    /// `*.suffix`, stored without `*.`.
    Subdomains(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Port {
    /// None written: the scheme's default port only.
    Default,
    Exact(u16),
    /// `:*`: any port, or none.
    Any,
}

impl Entry {
    /// Splits an entry the engine has already normalized and accepted.
    pub fn parse(normalized: &str) -> Entry {
        match normalized {
            "*" => return Entry::Any,
            "null" => return Entry::Null,
            _ => {}
        }
        let (scheme, rest) = normalized.split_once("://").unwrap_or(("", normalized));
        let (host, port) = split_host_port(rest);
        let port = match port {
            None => Port::Default,
            Some("*") => Port::Any,
            Some(digits) => digits.parse().map_or(Port::Default, Port::Exact),
        };
        let host = match host.strip_prefix("*.") {
            Some(suffix) => Host::Subdomains(suffix.to_string()),
            None => Host::Exact(host.to_string()),
        };
        Entry::Origin {
            scheme: scheme.to_string(),
            host,
            port,
        }
    }
}

/// Splits `host[:port]`, where host may be a bracketed IPv6 literal.
pub fn split_host_port(authority: &str) -> (&str, Option<&str>) {
    let after_host = authority.rfind(']').map_or(0, |i| i + 1);
    match authority[after_host..].rfind(':') {
        Some(i) => (
            &authority[..after_host + i],
            Some(&authority[after_host + i + 1..]),
        ),
        None => (authority, None),
    }
}

/// The port a browser leaves out when it serializes an origin.
pub fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        "ftp" => Some(21),
        _ => None,
    }
}

/// `localhost`, `127.0.0.0/8` or `[::1]`: the user's own machine, as the
/// engine defines it for its credentials rule.
pub fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host == "[::1]"
        || (host.starts_with("127.")
            && host.split('.').count() == 4
            && host.split('.').all(|o| o.parse::<u8>().is_ok()))
}

/// A request's `Origin` read leniently: what a browser would have sent, and
/// every way the value differs from that.
#[derive(Debug)]
pub struct RequestOrigin {
    pub scheme: String,
    pub host: String,
    /// `None`: the default port.
    pub port: Option<u16>,
    /// How the value differs from a serialized origin, as (code, message).
    pub flaws: Vec<(&'static str, String)>,
}

impl RequestOrigin {
    /// `None` when the value is not an origin at all (no `scheme://`).
    pub fn parse(raw: &[u8]) -> Option<RequestOrigin> {
        let mut flaws = Vec::new();
        if !raw.is_ascii() {
            flaws.push((
                "origin_not_ascii",
                "it has bytes outside ASCII: browsers send hosts in punycode (xn--…)".to_string(),
            ));
        }
        let text = String::from_utf8_lossy(raw);
        let mut value: &str = &text;
        if let Some((first, _)) = value.split_once(',') {
            flaws.push((
                "several_origins",
                "it holds several values: a request carries one Origin (two Origin lines joined by a proxy, or a list sent by the client)".to_string(),
            ));
            value = first.trim();
        }
        if value.len() != value.trim().len() {
            flaws.push(("origin_whitespace", "it has spaces around it".to_string()));
            value = value.trim();
        }
        if value.bytes().any(|b| b.is_ascii_uppercase()) {
            flaws.push((
                "origin_uppercase",
                "it has uppercase letters: browsers send scheme and host in lowercase, and the filter compares byte for byte".to_string(),
            ));
        }
        let lower = value.to_ascii_lowercase();
        let (scheme, rest) = lower.split_once("://")?;
        let (authority, path) = match rest.find(['/', '?', '#']) {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if !path.is_empty() {
            flaws.push((
                "origin_has_path",
                format!("it ends in \"{path}\": an origin is scheme://host[:port], with no path, not even a trailing \"/\""),
            ));
        }
        let authority = match authority.rsplit_once('@') {
            Some((_, host)) => {
                flaws.push((
                    "origin_has_userinfo",
                    "it has a user name: browsers never send one in Origin".to_string(),
                ));
                host
            }
            None => authority,
        };
        let (host, port) = split_host_port(authority);
        let port = match port {
            None => None,
            Some(digits) => {
                let number: Option<u16> = digits.parse().ok().filter(|p| *p > 0);
                match number {
                    Some(p) if Some(p) == default_port(scheme) => {
                        flaws.push((
                            "default_port_written",
                            format!(
                                "it spells out the default port :{p}, which browsers leave out"
                            ),
                        ));
                        None
                    }
                    Some(p) if digits.starts_with('0') => {
                        flaws.push((
                            "port_leading_zero",
                            format!("its port \"{digits}\" has a leading zero"),
                        ));
                        Some(p)
                    }
                    Some(p) => Some(p),
                    None => {
                        flaws.push((
                            "bad_port",
                            format!("its port \"{digits}\" is not a number from 1 to 65535"),
                        ));
                        None
                    }
                }
            }
        };
        Some(RequestOrigin {
            scheme: scheme.to_string(),
            host: host.to_string(),
            port,
            flaws,
        })
    }

    /// The origin as a browser would have serialized it.
    pub fn serialized(&self) -> String {
        match self.port {
            Some(port) => format!("{}://{}:{port}", self.scheme, self.host),
            None => format!("{}://{}", self.scheme, self.host),
        }
    }
}
