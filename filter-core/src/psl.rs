//! The Public Suffix List (publicsuffix.org), ICANN and private sections,
//! compiled in from a dated snapshot, so that a credentialed wildcard can
//! never span sites of different owners (`https://*.github.io`).
//!
//! The snapshot (`psl/suffixes.bin`, written by `scripts/refresh-psl.sh`) is
//! the list as a trie, read from the top-level label down, in this grammar:
//! `item := ["?"] label ["{" item ("," item)* "}"]`, items separated by `,`,
//! children sorted. `?` marks a node that is not a rule itself (only a step
//! towards rules below it); wildcard rules are children named `*`, exception
//! rules children named `!label`. After each `{` comes the length of what the
//! braces hold, in symbols (five bits a symbol, least significant first, 32
//! set on all but the last), so that a reader skips a subtree at once.
//! Top-level labels with nothing below them are
//! left out: every single label is a public suffix anyway (the list's default
//! rule). Each symbol takes six bits: one of the 43 characters of [`ALPHABET`],
//! one of the frequent labels of `psl/words.txt` (codes 43 to 62), or the
//! end (63). The Envoy module (after wasm-opt) grows by 48 KB with it (the
//! 2025-05-26 list; 54 KB with 2026-10-23's 10,397 rules), 70 KB
//! with the same trie as plain text, 42 KB with it deflated plus
//! `miniz_oxide` (and a 70 KB inflation per config), 890 KB with the `psl`
//! crate. It is read at config time only, by a scan over the labels of each
//! level.

use alloc::string::String;
use core::cmp::Ordering;
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
const BANG: u8 = 42;
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
    /// The items right below this node, in order: each label's symbols and
    /// its node.
    fn items(&self) -> Items {
        Items {
            at: self.children.start,
            end: self.children.end,
        }
    }

    /// The child labelled `text`. Children are sorted by label, so the
    /// search stops at the first label past it.
    fn named(&self, text: impl Iterator<Item = u8> + Clone) -> Option<Node> {
        for (label, child) in self.items() {
            match label_text(label).cmp(text.clone()) {
                Ordering::Less => {}
                Ordering::Equal => return Some(child),
                Ordering::Greater => return None,
            }
        }
        None
    }
}

/// See [`Node::items`].
struct Items {
    at: usize,
    end: usize,
}

impl Iterator for Items {
    type Item = (Range<usize>, Node);

    fn next(&mut self) -> Option<Self::Item> {
        let (mut at, end) = (self.at, self.end);
        if at >= end || symbol(at) == END {
            return None;
        }
        let rule = symbol(at) != NOT_A_RULE;
        if !rule {
            at += 1;
        }
        let label_start = at;
        while at < end && !matches!(symbol(at), COMMA | OPEN | CLOSE | END) {
            at += 1;
        }
        let label = label_start..at;
        let mut children = at..at;
        if at < end && symbol(at) == OPEN {
            // The length of the subtree, so that it is skipped at once.
            let (mut length, mut shift) = (0usize, 0);
            at += 1;
            loop {
                let digit = symbol(at);
                at += 1;
                length |= usize::from(digit & 31) << shift;
                shift += 5;
                if digit & 32 == 0 || shift > 30 {
                    break;
                }
            }
            children = at..(at + length).min(end);
            // Past the subtree and its `}`.
            at = children.end + 1;
        }
        // Past the `,`.
        self.at = at + 1;
        Some((label, Node { rule, children }))
    }
}

/// What the list says about one domain (lowercase labels, no trailing dot),
/// found in one walk down from its top-level label.
struct Lookup {
    /// Its own node, if the list names it or anything below it.
    node: Option<Node>,
    /// Whether it is a public suffix: anyone may register a name directly
    /// under it.
    public_suffix: bool,
}

fn lookup(domain: &[u8]) -> Lookup {
    let mut parent = None;
    let mut node = Some(Node {
        rule: false,
        children: 0..PACKED.len() * 8 / 6,
    });
    let mut first: &[u8] = &[];
    for (depth, label) in domain.rsplit(|&b| b == b'.').enumerate() {
        let child = match node.as_ref().and_then(|n| n.named(label.iter().copied())) {
            Some(child) => Some(child),
            // A top-level label left out of the snapshot.
            None if depth == 0 => Some(Node {
                rule: true,
                children: 0..0,
            }),
            None => None,
        };
        (parent, node, first) = (node, child, label);
    }
    // A child of the parent named `label`, after a `!` for an exception.
    let under = |exception: bool, label: &[u8]| {
        let name = b"!"[..usize::from(exception)].iter().chain(label).copied();
        parent.as_ref().and_then(|p| p.named(name)).is_some()
    };
    let exception = under(true, first);
    let wildcard = under(false, b"*");
    let public_suffix = !domain.contains(&b'.')
        || !exception && (wildcard || node.as_ref().is_some_and(|n| n.rule));
    Lookup {
        node,
        public_suffix,
    }
}

/// The public suffix that makes `*.domain` span sites of different owners:
/// `domain` itself, or the first rule the list has below it
/// (`*.amazonaws.com` covers `s3.amazonaws.com`, whose subdomains are
/// anyone's buckets).
pub(crate) fn suffix_under_subdomains(domain: &str) -> Option<String> {
    let found = lookup(domain.as_bytes());
    if found.public_suffix {
        return Some(String::from(domain));
    }
    let mut node = found.node?;
    let mut name = String::from(domain);
    loop {
        let (label, child) = (node.items()).find(|(label, _)| symbol(label.start) != BANG)?;
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
    let found = lookup(domain.as_bytes());
    if found.public_suffix {
        return Some(String::from(domain));
    }
    found.node?.named(b"*".iter().copied())?;
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
            let below: usize = node.items().map(|(_, child)| rules(&child)).sum();
            usize::from(node.rule) + below
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
            assert!(lookup(suffix.as_bytes()).public_suffix, "{suffix}");
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
            assert!(
                !lookup(registrable.as_bytes()).public_suffix,
                "{registrable}"
            );
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
