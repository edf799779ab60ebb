//! Why a config was refused. Every problem names the policy, the field and
//! the value, so that the one log line a user sees is enough to fix it.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// Every problem found in one plugin JSON document, in document order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub(crate) Vec<ConfigError>);

impl ConfigErrors {
    /// The problems, at least one.
    pub fn iter(&self) -> impl Iterator<Item = &ConfigError> {
        self.0.iter()
    }
}

/// Renders one problem per line.
impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

/// One problem: where it is (policy, field), what was written there (value)
/// and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub(crate) policy: Option<String>,
    pub(crate) field: String,
    pub(crate) value: Option<String>,
    pub(crate) problem: Problem,
}

impl ConfigError {
    /// The policy, as `policy "name"` or, before its name is known, `policies[N]`.
    pub fn policy(&self) -> Option<&str> {
        self.policy.as_deref()
    }
    /// The field's path inside the policy (or document), such as `allow_origins[2]`.
    pub fn field(&self) -> &str {
        &self.field
    }
    /// The offending value as JSON, shortened when long.
    pub fn value(&self) -> Option<&str> {
        self.value.as_deref()
    }
    /// What is wrong.
    pub fn problem(&self) -> &Problem {
        &self.problem
    }
}

/// `policy "api": allow_origins[2] "https://*.com": a wildcard may not cover a whole top-level domain`
impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut prefix = String::new();
        for part in [
            self.policy.as_deref(),
            Some(&*self.field),
            self.value.as_deref(),
        ]
        .into_iter()
        .flatten()
        .filter(|p| !p.is_empty())
        {
            if !prefix.is_empty() {
                prefix.push(' ');
            }
            prefix.push_str(part);
        }
        if prefix.is_empty() {
            write!(f, "{}", self.problem)
        } else {
            write!(f, "{prefix}: {}", self.problem)
        }
    }
}

/// The kinds of refusal. Each variant's `Display` is its explanation.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// The document is not JSON; carries the parser's message.
    Json(String),
    UnknownField,
    Missing,
    WrongType(&'static str),
    EmptyString,
    NoPolicies,
    EmptyList,
    EmptyMatchList,
    DuplicateName {
        first: usize,
    },
    BadMode,
    BadDisallowed,
    MaxAgeOutOfRange,
    // Origins.
    AnyOriginNotAlone,
    MissingScheme,
    BadScheme,
    OriginWithUserinfo,
    OriginWithPath,
    OriginWithQuery,
    OriginWithFragment,
    NonAsciiHost,
    BadHost,
    BadPort,
    MisplacedWildcard,
    WildcardCoversTopLevelDomain,
    WildcardCoversAddresses,
    // Credentials.
    CredentialsWithWildcard,
    CredentialsWithNullOrigin,
    CredentialsOverPlainHttp,
    // Methods and headers.
    NotAMethod,
    ForbiddenMethod,
    NotAHeaderName,
    ForbiddenRequestHeader,
    ForbiddenResponseHeader,
    // Scope.
    BadHostPattern,
    BadPath,
    // Version 1.1.
    BadIpv6,
    /// Carries the origin as browsers send it.
    NonCanonicalIpv6 {
        canonical: String,
    },
    TwoWildcardsInLabel,
    /// Carries the public suffix the pattern spans.
    WildcardOverPublicSuffix {
        suffix: String,
    },
    PathWithQueryOrFragment,
    /// Carries the earlier policy's index and the metric name both become.
    MetricNameCollision {
        first: usize,
        metric: String,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Json(message) => write!(f, "not valid JSON: {message}"),
            Problem::UnknownField => f.write_str("unknown field"),
            Problem::Missing => f.write_str("is required"),
            Problem::WrongType(expected) => write!(f, "must be {expected}"),
            Problem::EmptyString => f.write_str("must not be empty"),
            Problem::NoPolicies => f.write_str("must list at least one policy"),
            Problem::EmptyList => f.write_str("must not be an empty list"),
            Problem::EmptyMatchList => f.write_str("must not be an empty list: leave the field out to match any"),
            Problem::DuplicateName { first } => write!(f, "the name is already used by policies[{first}]"),
            Problem::BadMode => f.write_str(r#"must be "enforce" or "shadow""#),
            Problem::BadDisallowed => f.write_str(r#"must be "pass" or "reject""#),
            Problem::MaxAgeOutOfRange => f.write_str("must be a whole number of seconds from 0 to 86400"),
            Problem::AnyOriginNotAlone => f.write_str(r#""*" allows every origin and must be the only entry"#),
            Problem::MissingScheme => f.write_str("an origin is scheme://host[:port]"),
            Problem::BadScheme => f.write_str("the scheme is not valid"),
            Problem::OriginWithUserinfo => f.write_str("an origin has no user name or password"),
            Problem::OriginWithPath => f.write_str(r#"an origin has no path, not even "/""#),
            Problem::OriginWithQuery => f.write_str("an origin has no query"),
            Problem::OriginWithFragment => f.write_str("an origin has no fragment"),
            Problem::NonAsciiHost => f.write_str("the host is not ASCII: write it in punycode (xn--…)"),
            Problem::BadHost => f.write_str("the host is not a valid domain name or IP address"),
            Problem::BadPort => f.write_str("the port must be a number from 1 to 65535, or *"),
            Problem::MisplacedWildcard => f.write_str(
                r#"a wildcard may only be the whole first label ("scheme://*.host"), one "*" inside the first label ("scheme://pr-*.host"), or the port ("scheme://host:*")"#,
            ),
            Problem::WildcardCoversTopLevelDomain => {
                f.write_str("a wildcard may not cover a whole top-level domain")
            }
            Problem::WildcardCoversAddresses => f.write_str("a wildcard may not cover IP addresses"),
            Problem::CredentialsWithWildcard => {
                f.write_str(r#"browsers refuse "*" when allow_credentials is true: list the values"#)
            }
            Problem::CredentialsWithNullOrigin => f.write_str(
                r#"allowing the "null" origin with credentials lets any sandboxed page read them"#,
            ),
            Problem::CredentialsOverPlainHttp => f.write_str(
                "with allow_credentials, an http origin must be loopback (localhost, 127.0.0.0/8, [::1]): anyone on the network can impersonate it",
            ),
            Problem::NotAMethod => f.write_str("is not an HTTP method token"),
            Problem::ForbiddenMethod => f.write_str("is a forbidden method that browsers never send"),
            Problem::NotAHeaderName => f.write_str("is not an HTTP header name"),
            Problem::ForbiddenRequestHeader => {
                f.write_str("is a forbidden request header: browsers never let a script send it")
            }
            Problem::ForbiddenResponseHeader => {
                f.write_str("is a forbidden response header: browsers never expose it")
            }
            Problem::BadHostPattern => f.write_str(r#"a host is "name" or "*.suffix", ASCII, no port"#),
            Problem::BadPath => f.write_str(r#"a path starts with "/" (or is "*"), with at most one "*", at its end"#),
            Problem::BadIpv6 => f.write_str("the host is not a valid IPv6 address"),
            Problem::NonCanonicalIpv6 { canonical } => write!(
                f,
                "browsers send this origin as {canonical} (IPv6 in RFC 5952 form): write it that way, or it never matches"
            ),
            Problem::TwoWildcardsInLabel => f.write_str(r#"a label may hold only one "*""#),
            Problem::WildcardOverPublicSuffix { suffix } => write!(
                f,
                "with allow_credentials, a wildcard may not span sites of different owners: {suffix} is a public suffix (Public Suffix List of {})",
                crate::psl::PSL_SNAPSHOT_DATE
            ),
            Problem::PathWithQueryOrFragment => f.write_str(
                r##"a path has no "?" or "#": match.paths is compared with the path alone, so this entry never matches"##,
            ),
            Problem::MetricNameCollision { first, metric } => write!(
                f,
                "becomes the metric name {metric:?}, as the name of policies[{first}] does: their counters would merge; rename one"
            ),
        }
    }
}
