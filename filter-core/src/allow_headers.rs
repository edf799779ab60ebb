//! `Access-Control-Allow-Headers`: the request headers a preflight may ask
//! for, and how a requested list is compared with them.

use crate::error::{FieldPath, Problem, Report};
use crate::http::{is_forbidden_request_header, is_token, list_elements};
use alloc::borrow::Cow;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::cmp::Ordering;

#[derive(Debug)]
pub(crate) struct AllowHeaders {
    /// `*` listed: any name but `authorization`.
    pub(crate) any: bool,
    /// Listed names, lowercase, sorted for binary search.
    pub(crate) names: Vec<Box<[u8]>>,
}

impl AllowHeaders {
    /// Checks and compiles `allow_headers`. Also gives back the names as the
    /// engine compares them: lowercase, duplicates dropped, in the order written.
    pub(crate) fn compile(
        names: &[String],
        credentials: bool,
        report: &mut Report,
    ) -> Option<(AllowHeaders, Vec<String>)> {
        let names = header_names(
            "allow_headers",
            names,
            credentials,
            is_forbidden_request_header,
            Problem::ForbiddenRequestHeader,
            report,
        )?;
        let mut normalized: Vec<String> = Vec::with_capacity(names.len());
        // Each name inserted in its place, duplicates dropped: quadratic in
        // the worst case, but a header list is short, and the slice sort
        // costs the Envoy module some 3 KB.
        let mut sorted: Vec<Box<[u8]>> = Vec::with_capacity(names.len());
        for name in names {
            if normalized.contains(&name) {
                continue;
            }
            if name != "*" {
                if let Err(at) =
                    sorted.binary_search_by(|n| by_length_then_bytes(n, name.as_bytes()))
                {
                    sorted.insert(at, name.as_bytes().into());
                }
            }
            normalized.push(name);
        }
        let any = normalized.iter().any(|n| n == "*");
        Some((AllowHeaders { any, names: sorted }, normalized))
    }

    /// Checks every name of an `Access-Control-Request-Headers` value.
    /// `Ok` carries the `Access-Control-Allow-Headers` answer (names lowercase,
    /// joined by `,`; `None` when none were requested), borrowed when the
    /// request already wrote it that way, as browsers do. `Err` is the first
    /// name refused.
    pub(crate) fn check<'a>(&self, requested: &'a [u8]) -> Result<Option<Cow<'a, str>>, &'a [u8]> {
        let mut count = 0;
        for name in list_elements(requested) {
            if !is_token(name) || !self.allows(name) {
                return Err(name);
            }
            count += 1;
        }
        if count == 0 {
            return Ok(None);
        }
        let canonical = !requested
            .iter()
            .any(|b| b.is_ascii_uppercase() || matches!(b, b' ' | b'\t'))
            && !requested.starts_with(b",")
            && !requested.ends_with(b",")
            && !requested.windows(2).any(|w| w == b",,");
        // Every name is a token, so the value is ASCII.
        if canonical {
            let text = core::str::from_utf8(requested).map_err(|_| requested)?;
            return Ok(Some(Cow::Borrowed(text)));
        }
        let mut joined = Vec::with_capacity(requested.len());
        for name in list_elements(requested) {
            if !joined.is_empty() {
                joined.push(b',');
            }
            joined.extend_from_slice(name);
        }
        joined.make_ascii_lowercase();
        let joined = String::from_utf8(joined).map_err(|_| requested)?;
        Ok(Some(Cow::Owned(joined)))
    }

    fn allows(&self, name: &[u8]) -> bool {
        if self.any && !name.eq_ignore_ascii_case(b"authorization") {
            return true;
        }
        self.names
            .binary_search_by(|listed| cmp_lowercase(listed, name))
            .is_ok()
    }
}

/// The names of `allow_headers` or `expose_headers`, lowercased, or `*`;
/// refuses non-tokens, the `forbidden` names and `*` with credentials.
pub(crate) fn header_names(
    field: &str,
    names: &[String],
    credentials: bool,
    forbidden: fn(&str) -> bool,
    forbidden_problem: Problem,
    report: &mut Report,
) -> Option<Vec<String>> {
    let mut lowercase = Vec::with_capacity(names.len());
    for (i, raw) in names.iter().enumerate() {
        let lower = raw.to_ascii_lowercase();
        let problem = if raw == "*" && credentials {
            Problem::CredentialsWithWildcard
        } else if raw != "*" && !is_token(raw.as_bytes()) {
            Problem::NotAHeaderName
        } else if forbidden(&lower) {
            forbidden_problem.clone()
        } else {
            lowercase.push(lower);
            continue;
        };
        report.problem(FieldPath::field(field).index(i), Some(raw), problem);
    }
    (lowercase.len() == names.len()).then_some(lowercase)
}

/// The order of [`AllowHeaders::names`]: by length first, so that most
/// comparisons with a requested name end at its length.
fn by_length_then_bytes(a: &[u8], b: &[u8]) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// Compares a lowercase name with one in any case, in [`by_length_then_bytes`] order.
fn cmp_lowercase(lower: &[u8], name: &[u8]) -> Ordering {
    lower.len().cmp(&name.len()).then_with(|| {
        lower
            .iter()
            .copied()
            .cmp(name.iter().map(u8::to_ascii_lowercase))
    })
}
