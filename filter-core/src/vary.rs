//! `Vary`: the request headers a CORS answer depends on, so that caches keep
//! one answer per origin.

use crate::http::{is_token, list_elements};
use alloc::borrow::Cow;
use alloc::string::String;

/// The `Vary` of a preflight answer, allowed or not.
pub(crate) fn preflight(private_network: bool) -> &'static str {
    if private_network {
        "Origin, Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network"
    } else {
        "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
    }
}

/// Folding the upstream's `Vary` lines into one that names `Origin`.
pub(crate) enum VaryMerge {
    Absent,
    /// Already `*` or naming `Origin`: leave it.
    Keep,
    /// The upstream's field names so far, joined by `, `. Names, not lines:
    /// Envoy joins repeated lines with `,` before a filter sees them and
    /// Workers with `, `, so only a rewrite gives both the same bytes.
    Names(String),
}

impl VaryMerge {
    pub(crate) fn add(&mut self, value: &[u8]) {
        if matches!(self, VaryMerge::Keep) {
            return;
        }
        if list_elements(value).any(|name| name == b"*" || name.eq_ignore_ascii_case(b"origin")) {
            *self = VaryMerge::Keep;
            return;
        }
        // An element that is not a field name means nothing to a cache: left out.
        for name in list_elements(value).filter(|name| is_token(name)) {
            let name = core::str::from_utf8(name).unwrap_or_default();
            match self {
                VaryMerge::Names(names) => {
                    names.push_str(", ");
                    names.push_str(name);
                }
                _ => *self = VaryMerge::Names(String::from(name)),
            }
        }
    }

    /// The `Vary` to set, or `None` to leave the upstream's as it is.
    pub(crate) fn merged(self) -> Option<Cow<'static, str>> {
        match self {
            VaryMerge::Absent => Some(Cow::Borrowed("Origin")),
            VaryMerge::Keep => None,
            VaryMerge::Names(mut names) => {
                names.push_str(", Origin");
                Some(Cow::Owned(names))
            }
        }
    }
}
