//! The request path as `match.paths` sees it: normalized by the engine itself,
//! whatever the proxy in front did, so that no spelling of a path steps
//! around a policy (`//api/x`, `/%61pi/x`, `/public/..%2fapi/x`). Only the
//! matching uses it; the request goes upstream as it came.

use alloc::borrow::Cow;
use alloc::vec::Vec;

/// The path of a request target, normalized for matching:
///
/// - the query and fragment (from the first `?` or `#`) are dropped;
/// - percent-encoded unreserved characters are decoded (`%61` is `a`, any
///   hex case); `%2F` and `%5C` (any case) and a literal `\` are `/`; other
///   escapes keep their meaning, written in uppercase hex (`%3f` is `%3F`),
///   and a `%` that starts no escape is written `%25`;
/// - `.` and `..` segments are removed (RFC 3986 §5.2.4), runs of `/` are
///   merged into one;
/// - the result starts with `/`.
///
/// Decoding happens once: `%252e` stays `%252e`, never `.`. Normalizing a
/// normalized path gives it back unchanged. A path that needs none of this
/// costs a scan and is returned borrowed.
pub fn normalize_path(target: &[u8]) -> Cow<'_, [u8]> {
    let end = target
        .iter()
        .position(|&b| b == b'?' || b == b'#')
        .unwrap_or(target.len());
    let path = &target[..end];
    if is_normalized(path) {
        return Cow::Borrowed(path);
    }
    Cow::Owned(remove_dot_segments(&decode(path)))
}

/// Starts with `/`, holds no `%` or `\`, and no empty, `.` or `..` segment
/// (but an empty last one: a trailing `/`).
fn is_normalized(path: &[u8]) -> bool {
    let [b'/', rest @ ..] = path else {
        return false;
    };
    if rest.iter().any(|&b| b == b'%' || b == b'\\') {
        return false;
    }
    let mut segments = rest.split(|&b| b == b'/').peekable();
    while let Some(segment) = segments.next() {
        let last = segments.peek().is_none();
        if matches!(segment, b"." | b"..") || (segment.is_empty() && !last) {
            return false;
        }
    }
    true
}

/// One pass of percent-decoding as [`normalize_path`] describes, with `\` as
/// `/`.
fn decode(path: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(path.len() + 1);
    let mut i = 0;
    while i < path.len() {
        let b = path[i];
        i += 1;
        if b == b'\\' {
            out.push(b'/');
            continue;
        }
        if b != b'%' {
            out.push(b);
            continue;
        }
        let escaped = match (path.get(i), path.get(i + 1)) {
            (Some(&hi), Some(&lo)) => hex(hi).zip(hex(lo)).map(|(hi, lo)| hi << 4 | lo),
            _ => None,
        };
        match escaped {
            Some(byte) => {
                i += 2;
                match byte {
                    b'/' | b'\\' => out.push(b'/'),
                    b if is_unreserved(b) => out.push(b),
                    b => out.extend_from_slice(&[
                        b'%',
                        HEX[usize::from(b >> 4)],
                        HEX[usize::from(b & 15)],
                    ]),
                }
            }
            None => out.extend_from_slice(b"%25"),
        }
    }
    out
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// RFC 3986 §2.3.
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// `/` and the segments that remain once empty, `.` and `..` segments are
/// resolved; a trailing `/` (or a last `.` or `..`) keeps a trailing `/`.
fn remove_dot_segments(path: &[u8]) -> Vec<u8> {
    let mut kept: Vec<&[u8]> = Vec::new();
    let mut trailing_slash = false;
    for segment in path.split(|&b| b == b'/') {
        trailing_slash = matches!(segment, b"" | b"." | b"..");
        match segment {
            b"" | b"." => {}
            b".." => {
                kept.pop();
            }
            segment => kept.push(segment),
        }
    }
    let mut out = Vec::with_capacity(path.len() + 1);
    for segment in &kept {
        out.push(b'/');
        out.extend_from_slice(segment);
    }
    if out.is_empty() || trailing_slash {
        out.push(b'/');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalized() {
        let cases: &[(&[u8], &[u8])] = &[
            (b"/api/x", b"/api/x"),
            (b"/api/x?q=/../y", b"/api/x"),
            (b"/api/x#f", b"/api/x"),
            (b"//api/x", b"/api/x"),
            (b"/api//x///", b"/api/x/"),
            (b"/%61pi/x", b"/api/x"),
            (b"/%41PI/x", b"/API/x"),
            (b"/api%2Fx", b"/api/x"),
            (b"/api%2fx", b"/api/x"),
            (b"/api%5cx", b"/api/x"),
            (b"/api\\x", b"/api/x"),
            (b"/public/..%2fapi/x", b"/api/x"),
            (b"/public/%2e%2e/api/x", b"/api/x"),
            (b"/public/%2E%2E%2Fapi/x", b"/api/x"),
            (b"/public/.%2E/api/x", b"/api/x"),
            (b"/a/./b/../c", b"/a/c"),
            (b"/a/b/..", b"/a/"),
            (b"/a/b/.", b"/a/b/"),
            (b"/..", b"/"),
            (b"/../../x", b"/x"),
            (b"/", b"/"),
            (b"", b"/"),
            (b"*", b"/*"),
            (b"?q", b"/"),
            (b"api/x", b"/api/x"),
            (b"/a%3fb", b"/a%3Fb"),
            (b"/a%3Fb", b"/a%3Fb"),
            (b"/a%252e%252e/b", b"/a%252e%252e/b"),
            (b"/a%", b"/a%25"),
            (b"/a%zz", b"/a%25zz"),
            (b"/a%2", b"/a%252"),
            (b"/%7e%5f%2d", b"/~_-"),
            (b"/caf\xc3\xa9", b"/caf\xc3\xa9"),
            (b"/..a/.b/a..", b"/..a/.b/a.."),
        ];
        for &(raw, normalized) in cases {
            let got = normalize_path(raw);
            assert_eq!(
                got,
                normalized,
                "{} -> {}",
                alloc::string::String::from_utf8_lossy(raw),
                alloc::string::String::from_utf8_lossy(&got)
            );
            assert_eq!(normalize_path(&got), got, "idempotent");
        }
    }

    #[test]
    fn no_allocation_for_a_plain_path() {
        for plain in [
            &b"/api/items/42"[..],
            b"/",
            b"/a/b/",
            b"/api?x=%2e%2e",
            b"/.well-known/x",
        ] {
            assert!(
                matches!(normalize_path(plain), Cow::Borrowed(_)),
                "{plain:?}"
            );
        }
    }
}
