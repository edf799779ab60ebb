//! Arbitrary bytes as a request target through `normalize_path`, checked
//! against what docs/behaviour.md promises of the path `match.paths` sees:
//! it starts with `/`, holds no query, fragment, `\`, empty, `.` or `..`
//! segment, no escape that should have been decoded, and normalizing it
//! again changes nothing. A target that needed nothing comes back as it was.

#![no_main]

use filter_core::normalize_path;
use libfuzzer_sys::fuzz_target;
use std::borrow::Cow;

fuzz_target!(|target: &[u8]| {
    let shown = target.escape_ascii();
    let path = normalize_path(target);
    let out = path.escape_ascii();
    assert_eq!(path.first(), Some(&b'/'), "\"{shown}\" -> \"{out}\"");
    assert!(
        !path.iter().any(|b| matches!(b, b'?' | b'#' | b'\\')),
        "\"{shown}\" -> \"{out}\""
    );
    let segments: Vec<&[u8]> = path[1..].split(|&b| b == b'/').collect();
    for (i, segment) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        assert!(
            !matches!(*segment, b"." | b"..") && (last || !segment.is_empty()),
            "\"{shown}\" -> \"{out}\": segment {i}"
        );
    }
    // Every `%` starts an escape in uppercase hex of a byte that is neither
    // unreserved nor a slash.
    for (i, _) in path.iter().enumerate().filter(|(_, &b)| b == b'%') {
        let hex = path.get(i + 1..i + 3).unwrap_or_default();
        let upper = |b: &u8| b.is_ascii_digit() || (b'A'..=b'F').contains(b);
        assert!(
            hex.len() == 2 && hex.iter().all(upper),
            "\"{shown}\" -> \"{out}\""
        );
        let byte = u8::from_str_radix(std::str::from_utf8(hex).unwrap(), 16).unwrap();
        assert!(
            !(byte.is_ascii_alphanumeric() || b"-._~/\\".contains(&byte)),
            "\"{shown}\" -> \"{out}\": %{}",
            byte as char
        );
    }
    assert_eq!(normalize_path(&path), path, "not idempotent: \"{shown}\"");
    let end = target
        .iter()
        .position(|&b| b == b'?' || b == b'#')
        .unwrap_or(target.len());
    if let Cow::Borrowed(borrowed) = path {
        assert_eq!(borrowed, &target[..end], "\"{shown}\"");
    }
});
