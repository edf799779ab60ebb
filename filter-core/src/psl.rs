//! The Public Suffix List (publicsuffix.org), ICANN and private sections,
//! compiled in from a dated snapshot, so that a credentialed wildcard can
//! never span sites of different owners (`https://*.github.io`).
//!
//! The snapshot (`psl/suffixes.bin`, written by `scripts/refresh-psl.sh`) is
//! the list as a trie, read from the top-level label down, in this grammar:
//! `item := ["?"] label ["{" item ("," item)* "}"]`, items separated by `,`,
//! children sorted. `?` marks a node that is not a rule itself (only a step
//! towards rules below it); wildcard rules are children named `*`, exception
//! rules children named `!label`. Top-level labels with nothing below them are
//! left out: every single label is a public suffix anyway (the list's default
//! rule). Each symbol takes six bits: one of the 43 characters of [`ALPHABET`],
//! one of the frequent labels of `psl/words.txt` (codes 43 to 62), or the
//! end (63). The Envoy module (after wasm-opt) grows by 47 KB with it, 70 KB
//! with the same trie as plain text, 42 KB with it deflated plus
//! `miniz_oxide` (and a 70 KB inflation per config), 890 KB with the `psl`
//! crate. It is read by a linear scan, at config time only.

use alloc::string::String;
use core::ops::Range;

/// The date of the compiled-in Public Suffix List snapshot (`YYYY-MM-DD`).
pub const PSL_SNAPSHOT_DATE: &str = include_str!("psl/date.txt").trim_ascii();

const PACKED: &[u8] = include_bytes!("psl/suffixes.bin");
const WORDS: &str = include_str!("psl/words.txt");
const ALPHABET: &[u8; 43] = b"abcdefghijklmnopqrstuvwxyz0123456789-,{}?*!";
const COMMA: u8 = 37;
const OPEN: u8 = 38;
const CLOSE: u8 = 39;
const NOT_A_RULE: u8 = 40;
const END: u8 = 63;

/// The six-bit symbol at `index` (past the data: [`END`]).
fn symbol(index: usize) -> u8 {
    let bit = index * 6;
    let byte = |at: usize| PACKED.get(at).copied().unwrap_or(u8::MAX);
    let pair = u16::from_be_bytes([byte(bit / 8), byte(bit / 8 + 1)]);
    (pair >> (10 - bit % 8)) as u8 & 63
}

/// The text one symbol stands for.
fn spell(symbol: u8) -> &'static [u8] {
    let code = usize::from(symbol);
    match ALPHABET.get(code..=code) {
        Some(character) => character,
        None => (WORDS.split(',').nth(code - ALPHABET.len()))
            .unwrap_or_default()
            .as_bytes(),
    }
}

/// The text of a label, its symbols spelled out.
fn label_text(label: Range<usize>) -> impl Iterator<Item = u8> {
    label.flat_map(|i| spell(symbol(i)).iter().copied())
}

/// One node of the trie.
#[derive(Clone)]
struct Node {
    /// The node's own name is a rule (`co.uk`).
    rule: bool,
    /// The symbols of the items below it, without the braces.
    children: Range<usize>,
}

impl Node {
    /// The first child whose label (as text) `fits`, with that label's symbols.
    fn child(
        &self,
        fits: impl Fn(&mut dyn Iterator<Item = u8>) -> bool,
    ) -> Option<(Range<usize>, Node)> {
        let Range { mut start, end } = self.children;
        while start < end && symbol(start) != END {
            let rule = symbol(start) != NOT_A_RULE;
            if !rule {
                start += 1;
            }
            let label_start = start;
            while start < end && !matches!(symbol(start), COMMA | OPEN | CLOSE | END) {
                start += 1;
            }
            let label = label_start..start;
            let mut children = start..start;
            if start < end && symbol(start) == OPEN {
                let mut depth = 0usize;
                while start < end {
                    match symbol(start) {
                        OPEN => depth += 1,
                        CLOSE => depth -= 1,
                        _ => {}
                    }
                    start += 1;
                    if depth == 0 {
                        break;
                    }
                }
                children = label.end + 1..start - 1;
            }
            if fits(&mut label_text(label.clone())) {
                return Some((label, Node { rule, children }));
            }
            start += 1;
        }
        None
    }
}

/// A `fits` test for [`Node::child`]: the label is `text`.
fn is(text: &[u8]) -> impl Fn(&mut dyn Iterator<Item = u8>) -> bool + '_ {
    move |label| label.eq(text.iter().copied())
}

/// The node for `domain` (lowercase labels, no trailing dot), if the list
/// names it or anything below it.
fn find(domain: &[u8]) -> Option<Node> {
    let mut node = Node {
        rule: false,
        children: 0..PACKED.len() * 8 / 6,
    };
    for (depth, label) in domain.rsplit(|&b| b == b'.').enumerate() {
        node = match node.child(is(label)) {
            Some((_, child)) => child,
            // A top-level label left out of the snapshot.
            None if depth == 0 => Node {
                rule: true,
                children: 0..0,
            },
            None => return None,
        };
    }
    Some(node)
}

/// `domain` and the domain it is directly under (`None` for a single label).
fn split_first_label(domain: &[u8]) -> (&[u8], Option<&[u8]>) {
    match domain.iter().position(|&b| b == b'.') {
        Some(dot) => (&domain[..dot], Some(&domain[dot + 1..])),
        None => (domain, None),
    }
}

/// Whether `domain` (lowercase, no trailing dot) is a public suffix: anyone
/// may register a name directly under it.
pub(crate) fn is_public_suffix(domain: &[u8]) -> bool {
    let (first, Some(parent)) = split_first_label(domain) else {
        return true;
    };
    if let Some(parent) = find(parent) {
        let exception =
            |l: &mut dyn Iterator<Item = u8>| l.next() == Some(b'!') && l.eq(first.iter().copied());
        if parent.child(exception).is_some() {
            return false;
        }
        if parent.child(is(b"*")).is_some() {
            return true;
        }
    }
    find(domain).is_some_and(|node| node.rule)
}

/// The public suffix that makes `*.domain` span sites of different owners:
/// `domain` itself, or the first rule the list has below it
/// (`*.amazonaws.com` covers `s3.amazonaws.com`, whose subdomains are
/// anyone's buckets).
pub(crate) fn suffix_under_subdomains(domain: &str) -> Option<String> {
    if is_public_suffix(domain.as_bytes()) {
        return Some(String::from(domain));
    }
    let mut node = find(domain.as_bytes())?;
    let mut name = String::from(domain);
    loop {
        let (label, child) = node.child(|l| l.next() != Some(b'!'))?;
        let label: String = label_text(label).map(char::from).collect();
        name = alloc::format!("{label}.{name}");
        if child.rule {
            return Some(name);
        }
        node = child;
    }
}

/// The public suffix that makes a glob label directly under `domain`
/// (`https://pr-*.domain`) span sites of different owners: `domain` itself,
/// or `*.domain` when every label directly under it is a public suffix.
pub(crate) fn suffix_under_glob(domain: &str) -> Option<String> {
    if is_public_suffix(domain.as_bytes()) {
        return Some(String::from(domain));
    }
    find(domain.as_bytes())?.child(is(b"*"))?;
    Some(alloc::format!("*.{domain}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_date() {
        let date = PSL_SNAPSHOT_DATE.as_bytes();
        assert_eq!(date.len(), 10, "{PSL_SNAPSHOT_DATE}");
        assert!(date[..4].iter().all(u8::is_ascii_digit) && date[4] == b'-' && date[7] == b'-');
    }

    #[test]
    fn whole_snapshot_reads() {
        fn rules(node: &Node) -> usize {
            let mut count = usize::from(node.rule);
            let mut rest = node.clone();
            while let Some((label, child)) = rest.child(|_| true) {
                assert!(!label.is_empty());
                count += rules(&child);
                let braced = child.children.start == label.end + 1;
                rest.children.start = if braced {
                    child.children.end + 2
                } else {
                    label.end + 1
                };
            }
            count
        }
        let top = Node {
            rule: false,
            children: 0..PACKED.len() * 8 / 6,
        };
        // The snapshot's rules less the top-level labels left out.
        assert!(rules(&top) > 8000, "{}", rules(&top));
    }

    #[test]
    fn public_suffixes() {
        for suffix in [
            "com",
            "uk",
            "co.uk",
            "github.io",
            "vercel.app",
            "s3.amazonaws.com",
            // `*.ck`: every label under `ck` but `www`.
            "foo.ck",
            // `*.kawasaki.jp` but `!city.kawasaki.jp`.
            "x.kawasaki.jp",
            "unknowntld",
        ] {
            assert!(is_public_suffix(suffix.as_bytes()), "{suffix}");
        }
        for registrable in [
            "example.com",
            "example.co.uk",
            "myteam.github.io",
            "www.ck",
            "kawasaki.jp",
            "city.kawasaki.jp",
            "amazonaws.com",
            "a.b.example.com",
        ] {
            assert!(!is_public_suffix(registrable.as_bytes()), "{registrable}");
        }
    }

    #[test]
    fn wildcards_over_public_suffixes() {
        let cases = [
            ("github.io", Some("github.io")),
            ("co.uk", Some("co.uk")),
            ("vercel.app", Some("vercel.app")),
            ("foo.ck", Some("foo.ck")),
            ("myteam.github.io", None),
            ("example.co.uk", None),
            ("example.com", None),
            ("www.ck", None),
            ("city.kawasaki.jp", None),
        ];
        for (domain, suffix) in cases {
            assert_eq!(
                suffix_under_subdomains(domain).as_deref(),
                suffix,
                "{domain}"
            );
        }
        // Rules below the domain: its subdomains belong to other owners.
        let below = suffix_under_subdomains("amazonaws.com").unwrap();
        assert!(below.ends_with(".amazonaws.com"), "{below}");
        assert_eq!(
            suffix_under_subdomains("kawasaki.jp").as_deref(),
            Some("*.kawasaki.jp")
        );
    }

    #[test]
    fn globs_over_public_suffixes() {
        assert_eq!(suffix_under_glob("github.io").as_deref(), Some("github.io"));
        assert_eq!(
            suffix_under_glob("kawasaki.jp").as_deref(),
            Some("*.kawasaki.jp")
        );
        assert_eq!(suffix_under_glob("preview.example.com"), None);
        assert_eq!(suffix_under_glob("myteam.github.io"), None);
        // Rules below, but not directly under every label: the glob covers
        // only single labels, which are the platform's own hosts.
        assert_eq!(suffix_under_glob("amazonaws.com"), None);
    }
}
