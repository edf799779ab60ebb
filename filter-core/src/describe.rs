//! Read-only views of a config for operator tools (`cors-filter check`,
//! `explain`, `import`), so that they show and compare origins exactly as the
//! engine reads them instead of re-implementing its rules.

use crate::error::Problem;
use crate::origin::Entry;
use alloc::string::{String, ToString};

/// One `allow_origins` entry as the engine reads it: `"*"`, `"null"`, or an
/// origin or pattern with scheme and host lowercased and the default port
/// dropped (`HTTPS://App.Example.com:443` is `https://app.example.com`,
/// `https://*.Example.com:*` stays a pattern: `https://*.example.com:*`).
///
/// Checks the entry alone: the rules that depend on the rest of the policy
/// (`"*"` alone, credentials with `"*"`, `"null"` or plain `http`) are left to
/// [`Config::from_json`](crate::Config::from_json).
///
/// # Errors
/// The [`Problem`] that makes the engine refuse the entry.
pub fn normalize_origin_entry(entry: &str) -> Result<String, Problem> {
    Ok(Entry::parse(entry)?.to_string())
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
