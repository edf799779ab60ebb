//! `Access-Control-Expose-Headers`: the response headers a script may read.

use crate::allow_headers::header_names;
use crate::error::{Problem, Report};
use crate::http::is_forbidden_response_header;
use alloc::boxed::Box;
use alloc::string::String;

/// Checks `expose_headers` and renders its header value: the names as
/// written, joined by `, `; `None` for an empty list.
pub(crate) fn compile(
    names: &[String],
    credentials: bool,
    report: &mut Report,
) -> Option<Option<Box<str>>> {
    header_names(
        "expose_headers",
        names,
        credentials,
        is_forbidden_response_header,
        Problem::ForbiddenResponseHeader,
        report,
    )?;
    Some((!names.is_empty()).then(|| names.join(", ").into()))
}
