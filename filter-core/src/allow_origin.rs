//! `Access-Control-Allow-Origin`: which origins a policy allows (its
//! `allow_origins`, with the rules that tie them to credentials) and the value
//! it answers an allowed origin with.

use crate::error::{FieldPath, Problem, Report};
use crate::origin::{AllowOrigins, Entry};
use crate::psl;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// Checks and compiles `allow_origins`. Also gives back the entries as the
/// engine reads them (see [`normalize_origin_entry`]).
pub(crate) fn compile(
    entries: &[String],
    credentials: bool,
    report: &mut Report,
) -> Option<(AllowOrigins, Vec<String>)> {
    let field = FieldPath::field("allow_origins");
    if entries.is_empty() {
        report.problem::<str>(field, None, Problem::EmptyList);
        return None;
    }
    let count = entries.len();
    let mut parsed = Vec::with_capacity(count);
    let mut memo = psl::Memo::default();
    for (i, raw) in entries.iter().enumerate() {
        let problem = match Entry::parse(raw) {
            Err(problem) => Some(problem),
            Ok(Entry::Any) if count > 1 => Some(Problem::AnyOriginNotAlone),
            Ok(Entry::Any) if credentials => Some(Problem::CredentialsWithWildcard),
            Ok(Entry::Null) if credentials => Some(Problem::CredentialsWithNullOrigin),
            Ok(entry) if credentials && entry.is_plain_http_off_loopback() => {
                Some(Problem::CredentialsOverPlainHttp)
            }
            Ok(entry) => match credentials.then(|| entry.spanned_public_suffix(&mut memo)) {
                Some(Some(suffix)) => Some(Problem::WildcardOverPublicSuffix { suffix }),
                _ => {
                    parsed.push(entry);
                    None
                }
            },
        };
        if let Some(problem) = problem {
            report.problem(field.clone().index(i), Some(raw), problem);
        }
    }
    if parsed.len() < count {
        return None;
    }
    let normalized = parsed.iter().map(normalized).collect();
    Some((AllowOrigins::compile(parsed), normalized))
}

impl AllowOrigins {
    /// The `Access-Control-Allow-Origin` value for a request's `Origin`, if
    /// it is allowed: `*`, or the origin itself.
    pub(crate) fn allow_origin<'a>(&self, origin: &'a [u8]) -> Option<&'a str> {
        match self {
            AllowOrigins::Any => Some("*"),
            // Only serialized origins match, and those are ASCII.
            AllowOrigins::List(_) if self.allows(origin) => core::str::from_utf8(origin).ok(),
            AllowOrigins::List(_) => None,
        }
    }
}

/// One `allow_origins` entry as the engine reads it: `"*"`, `"null"`, or an
/// origin or pattern with scheme and host lowercased and the default port
/// dropped (`HTTPS://App.Example.com:443` is `https://app.example.com`,
/// `https://*.Example.com:*` stays a pattern: `https://*.example.com:*`).
///
/// Checks the entry alone: the rules that depend on the rest of the policy
/// (`"*"` alone, credentials with `"*"`, `"null"` or plain `http`) are left to
/// [`Config::compile`](crate::Config::compile).
///
/// # Errors
/// The [`Problem`] that makes the engine refuse the entry.
pub fn normalize_origin_entry(entry: &str) -> Result<String, Problem> {
    Entry::parse(entry).map(|entry| normalized(&entry))
}

fn normalized(entry: &Entry) -> String {
    entry.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_read_as_the_engine_compiles_them() {
        let cases = [
            ("*", "*"),
            ("null", "null"),
            ("HTTPS://App.Example.com:443", "https://app.example.com"),
            ("https://*.Example.com", "https://*.example.com"),
            ("https://*.example.com:8443", "https://*.example.com:8443"),
            ("https://*.example.com:443", "https://*.example.com"),
            ("https://*.example.com:*", "https://*.example.com:*"),
            ("http://LOCALHOST:*", "http://localhost:*"),
            ("https://PR-*.Example.com:443", "https://pr-*.example.com"),
            ("http://[::1]:*", "http://[::1]:*"),
        ];
        for (entry, normalized) in cases {
            assert_eq!(normalize_origin_entry(entry).as_deref(), Ok(normalized));
        }
        assert_eq!(
            normalize_origin_entry("https://app.example.com/"),
            Err(Problem::OriginWithPath)
        );
    }
}
