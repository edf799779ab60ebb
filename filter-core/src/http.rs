//! The bits of HTTP grammar the CORS protocol leans on: tokens, list
//! elements and the Fetch Standard's forbidden header names.

/// `tchar` (RFC 9110 §5.6.2): the bytes allowed in a method or header name.
const fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        )
}

/// [`is_tchar`] for every byte: a hostile preflight can list thousands of
/// names, and a table lookup per byte keeps that cheap.
const TCHAR: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = is_tchar(b as u8);
        b += 1;
    }
    table
};

/// Whether `s` is a non-empty `token`, the grammar of methods and header
/// names: what the engine accepts as a name in `allow_headers`.
pub fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| TCHAR[usize::from(b)])
}

/// Strips optional whitespace (spaces and tabs) from both ends.
pub(crate) fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// The elements of a comma-separated header list, trimmed, empty ones skipped
/// (a proxy joining several header lines may leave some).
pub(crate) fn list_elements(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(trim_ows)
        .filter(|e| !e.is_empty())
}

/// Request headers a script can never set (Fetch Standard, "forbidden request-header").
/// Listing one in `allow_headers` is a mistake.
const FORBIDDEN_REQUEST_HEADERS: &[&str] = &[
    "accept-charset",
    "accept-encoding",
    "access-control-request-headers",
    "access-control-request-method",
    "access-control-request-private-network",
    "connection",
    "content-length",
    "cookie",
    "cookie2",
    "date",
    "dnt",
    "expect",
    "host",
    "keep-alive",
    "origin",
    "referer",
    "set-cookie",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "via",
];

/// `name` must be lowercase.
pub(crate) fn is_forbidden_request_header(name: &str) -> bool {
    FORBIDDEN_REQUEST_HEADERS.contains(&name)
        || name.starts_with("proxy-")
        || name.starts_with("sec-")
}

/// Response headers a browser never exposes to a script (Fetch Standard,
/// "forbidden response-header name"). `name` must be lowercase.
pub(crate) fn is_forbidden_response_header(name: &str) -> bool {
    matches!(name, "set-cookie" | "set-cookie2")
}

/// Methods a browser compares case-insensitively and sends uppercase
/// (Fetch Standard, "normalize a method").
pub(crate) fn normalize_method(method: &str) -> Option<&'static str> {
    ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"]
        .into_iter()
        .find(|m| m.eq_ignore_ascii_case(method))
}

/// Methods no browser request may use (Fetch Standard, "forbidden method").
pub(crate) fn is_forbidden_method(method: &str) -> bool {
    ["CONNECT", "TRACE", "TRACK"]
        .iter()
        .any(|m| m.eq_ignore_ascii_case(method))
}

/// CORS-safelisted methods: a browser never asks permission for them.
pub(crate) fn is_safelisted_method(method: &[u8]) -> bool {
    matches!(method, b"GET" | b"HEAD" | b"POST")
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn tokens() {
        for good in [&b"GET"[..], b"x-custom", b"A!#$%&'*+-.^_`|~9"] {
            assert!(is_token(good), "{good:?}");
        }
        for bad in [&b""[..], b"a b", b"a,b", b"a:b", b"\xff", b"a\"", b"(a)"] {
            assert!(!is_token(bad), "{bad:?}");
        }
    }

    #[test]
    fn list_elements_trim_and_skip_empty() {
        let got: Vec<&[u8]> = list_elements(b" a ,\tb,, ,c\t").collect();
        assert_eq!(got, [&b"a"[..], b"b", b"c"]);
        assert_eq!(list_elements(b" , ").count(), 0);
    }

    #[test]
    fn forbidden_names() {
        assert!(is_forbidden_request_header("cookie"));
        assert!(is_forbidden_request_header("proxy-authorization"));
        assert!(is_forbidden_request_header("sec-fetch-mode"));
        assert!(!is_forbidden_request_header("authorization"));
        assert!(is_forbidden_response_header("set-cookie"));
        assert!(!is_forbidden_response_header("date"));
    }

    #[test]
    fn methods() {
        assert_eq!(normalize_method("put"), Some("PUT"));
        assert_eq!(normalize_method("patch"), None);
        assert!(is_forbidden_method("track"));
        assert!(is_safelisted_method(b"HEAD"));
        assert!(!is_safelisted_method(b"get"));
    }
}
