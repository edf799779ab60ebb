//! The Public Suffix List (publicsuffix.org), ICANN and private sections,
//! compiled in from a dated snapshot, so that a credentialed wildcard can
//! never span sites of different owners (`https://*.github.io`).
//!
//! The snapshot (`psl/suffixes.bin`, written by `scripts/refresh-psl.sh`) is
//! the list as a trie, read from the top-level label down. Each item of a
//! subtree is `["?"] label ("," | "{" length subtree)`: `?` marks a node that
//! is not a rule itself (only a step towards rules below it), wildcard rules
//! are children named `*`, exception rules children named `!label`; the
//! length of a subtree, in bits, lets a reader skip it at once, and the last
//! item of a subtree needs no `,`. The whole trie is one subtree, its length
//! first. Top-level labels with nothing below them are left out: every single
//! label is a public suffix anyway (the list's default rule).
//!
//! A symbol is one of the label characters, the grammar's, or one of the 100
//! frequent labels of `psl/words.txt`, written as a canonical Huffman code
//! from one of five tables chosen by the symbol before it. With the
//! 2026-10-23 list (9,276 rules held) that is 36.7 KB, and the Envoy module
//! after wasm-opt is 17.5 KB smaller than with six bits a symbol and 20 words
//! (53.8 KB); deflated it is 30 KB, but `miniz_oxide` adds 13.4 KB of code
//! (and a 78 KB inflation per config); the `psl` crate adds 890 KB. It is read
//! at config time only, by a scan over the labels of each level (see [`Memo`]).

use alloc::string::String;
use alloc::vec::Vec;
use core::cmp::Ordering;
use core::ops::Range;

/// The date of the compiled-in Public Suffix List snapshot (`YYYY-MM-DD`).
pub const PSL_SNAPSHOT_DATE: &str = include_str!("psl/date.txt").trim_ascii();

/// The code tables, then the trie's bits, most significant first.
const PACKED: &[u8] = include_bytes!("psl/suffixes.bin");
const WORDS: &str = include_str!("psl/words.txt");
const ALPHABET: &[u8; 42] = b"abcdefghijklmnopqrstuvwxyz0123456789-,{?*!";
const COMMA: u8 = 37;
const OPEN: u8 = 38;
const NOT_A_RULE: u8 = 39;
const BANG: u8 = 41;
const CONTEXTS: usize = 5;
const MAX_CODE_LENGTH: usize = 15;
/// Where each table's symbols start, in canonical order: after the tables'
/// counts of codes of each length, 1 to [`MAX_CODE_LENGTH`].
const SYMBOLS: [usize; CONTEXTS + 1] = {
    let mut starts = [CONTEXTS * MAX_CODE_LENGTH; CONTEXTS + 1];
    let mut context = 0;
    while context < CONTEXTS {
        starts[context + 1] = starts[context];
        let mut length = 0;
        while length < MAX_CODE_LENGTH {
            starts[context + 1] += PACKED[context * MAX_CODE_LENGTH + length] as usize;
            length += 1;
        }
        context += 1;
    }
    starts
};

/// The code table for the symbol after `previous`: at the start of a label,
/// after a vowel, another letter, a digit or `-`, or a whole label (`*` or a
/// word).
fn context(previous: Option<u8>) -> usize {
    match previous {
        None | Some(NOT_A_RULE | BANG) => 0,
        // a, e, i, o, u, y
        Some(0 | 4 | 8 | 14 | 20 | 24) => 1,
        Some(0..=25) => 2,
        Some(0..COMMA) => 3,
        Some(_) => 4,
    }
}

/// The bit at `at` in the trie (past the data: 0).
fn bit(at: usize) -> u32 {
    let byte = PACKED.get(SYMBOLS[CONTEXTS] + at / 8).copied();
    byte.map_or(0, |b| u32::from(b >> (7 - at % 8) & 1))
}

/// The symbol whose code starts at `at`, which moves past it; `None` past
/// the data.
fn symbol(at: &mut usize, previous: Option<u8>) -> Option<u8> {
    let context = context(previous);
    let counts = PACKED
        .get(context * MAX_CODE_LENGTH..)?
        .get(..MAX_CODE_LENGTH)?;
    // Canonical codes: consecutive within a length, shifted left at each
    // longer length.
    let (mut code, mut first, mut index) = (0, 0, SYMBOLS[context]);
    for &count in counts {
        code |= bit(*at);
        *at += 1;
        let count = u32::from(count);
        if code - first < count {
            return PACKED.get(index + (code - first) as usize).copied();
        }
        index += count as usize;
        first = (first + count) << 1;
        code <<= 1;
    }
    None
}

/// A subtree's length in bits: four bits at a time, least significant
/// first, each followed by 1 when more follow.
fn length(at: &mut usize) -> usize {
    let (mut length, mut shift) = (0, 0);
    loop {
        let digit = (0..5).fold(0, |digit, _| {
            let next = digit << 1 | bit(*at) as usize;
            *at += 1;
            next
        });
        length |= (digit >> 1) << shift;
        shift += 4;
        if digit & 1 == 0 || shift > 28 {
            return length;
        }
    }
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

/// One node of the trie.
#[derive(Clone)]
struct Node {
    /// The node's own name is a rule (`co.uk`).
    rule: bool,
    /// The bits of the items below it.
    children: Range<usize>,
}

impl Node {
    /// The whole trie, below the top-level labels.
    fn root() -> Node {
        let mut at = 0;
        let length = length(&mut at);
        Node {
            rule: false,
            children: at..at + length,
        }
    }

    /// The items right below this node, in order: each label and its node.
    fn items(&self) -> Items {
        Items {
            at: self.children.start,
            end: self.children.end,
        }
    }

    /// The child labelled `name`. Children are sorted by label, so the
    /// search stops at the first label past it.
    fn named(&self, name: &[u8]) -> Option<Node> {
        for (label, child) in self.items() {
            match label.as_slice().cmp(name) {
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
    type Item = (Vec<u8>, Node);

    fn next(&mut self) -> Option<Self::Item> {
        if self.at >= self.end {
            return None;
        }
        let mut node = Node {
            rule: true,
            children: 0..0,
        };
        let (mut label, mut previous) = (Vec::new(), None);
        while self.at < self.end {
            let next = symbol(&mut self.at, previous)?;
            match next {
                COMMA => break,
                OPEN => {
                    let length = length(&mut self.at);
                    node.children = self.at..(self.at + length).min(self.end);
                    self.at = node.children.end;
                    break;
                }
                NOT_A_RULE => node.rule = false,
                _ => label.extend_from_slice(spell(next)),
            }
            previous = Some(next);
        }
        Some((label, node))
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

/// The steps of the last walk down the trie, one per label, so that the next
/// walk finds those it shares at once: the entries of one `allow_origins`
/// list mostly share their top labels, and finding `example` under `com`
/// decodes the hundreds of labels before it.
#[derive(Default)]
pub(crate) struct Memo(Vec<(usize, Vec<u8>, Option<Node>)>);

impl Memo {
    /// The child of `parent`, `depth` labels down, named `label`.
    fn child(&mut self, depth: usize, parent: &Node, label: &[u8]) -> Option<Node> {
        if let Some((start, name, child)) = self.0.get(depth) {
            if *start == parent.children.start && name == label {
                return child.clone();
            }
        }
        let child = parent.named(label);
        self.0.truncate(depth);
        self.0
            .push((parent.children.start, label.to_vec(), child.clone()));
        child
    }
}

fn lookup(domain: &[u8], memo: &mut Memo) -> Lookup {
    let mut parent = None;
    let mut node = Some(Node::root());
    let mut first: &[u8] = &[];
    for (depth, label) in domain.rsplit(|&b| b == b'.').enumerate() {
        let child = match node.as_ref().and_then(|n| memo.child(depth, n, label)) {
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
        let name = [&b"!"[..usize::from(exception)], label].concat();
        parent.as_ref().and_then(|p| p.named(&name)).is_some()
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
pub(crate) fn suffix_under_subdomains(domain: &str, memo: &mut Memo) -> Option<String> {
    let found = lookup(domain.as_bytes(), memo);
    if found.public_suffix {
        return Some(String::from(domain));
    }
    let mut node = found.node?;
    let mut name = String::from(domain);
    loop {
        let (label, child) = (node.items()).find(|(label, _)| label.first() != Some(&b'!'))?;
        let label: String = label.into_iter().map(char::from).collect();
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
pub(crate) fn suffix_under_glob(domain: &str, memo: &mut Memo) -> Option<String> {
    let found = lookup(domain.as_bytes(), memo);
    if found.public_suffix {
        return Some(String::from(domain));
    }
    found.node?.named(b"*")?;
    Some(alloc::format!("*.{domain}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use sha2::Digest;

    #[test]
    fn snapshot_date() {
        let date = PSL_SNAPSHOT_DATE.as_bytes();
        assert_eq!(date.len(), 10, "{PSL_SNAPSHOT_DATE}");
        assert!(date[..4].iter().all(u8::is_ascii_digit) && date[4] == b'-' && date[7] == b'-');
    }

    /// Every rule of the trie, read back, is the list's: the generator
    /// wrote their number and digest from the list as it parsed it.
    #[test]
    fn every_rule_reads_back() {
        fn rules(node: &Node, suffix: &str, found: &mut Vec<String>) {
            for (label, child) in node.items() {
                let name = String::from_utf8(label).unwrap() + suffix;
                if child.rule {
                    found.push(name.clone());
                }
                rules(&child, &format!(".{name}"), found);
            }
        }
        let mut found = Vec::new();
        rules(&Node::root(), "", &mut found);
        found.sort();
        let digest = sha2::Sha256::digest(found.join("\n"));
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            format!("{} {hex}", found.len()),
            include_str!("psl/rules.sha256")
        );
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
            assert!(
                lookup(suffix.as_bytes(), &mut Memo::default()).public_suffix,
                "{suffix}"
            );
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
                !lookup(registrable.as_bytes(), &mut Memo::default()).public_suffix,
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
                suffix_under_subdomains(domain, &mut Memo::default()).as_deref(),
                suffix,
                "{domain}"
            );
        }
        // Rules below the domain: its subdomains belong to other owners.
        let below = suffix_under_subdomains("amazonaws.com", &mut Memo::default()).unwrap();
        assert!(below.ends_with(".amazonaws.com"), "{below}");
        assert_eq!(
            suffix_under_subdomains("kawasaki.jp", &mut Memo::default()).as_deref(),
            Some("*.kawasaki.jp")
        );
    }

    #[test]
    fn globs_over_public_suffixes() {
        assert_eq!(
            suffix_under_glob("github.io", &mut Memo::default()).as_deref(),
            Some("github.io")
        );
        assert_eq!(
            suffix_under_glob("kawasaki.jp", &mut Memo::default()).as_deref(),
            Some("*.kawasaki.jp")
        );
        assert_eq!(
            suffix_under_glob("preview.example.com", &mut Memo::default()),
            None
        );
        assert_eq!(
            suffix_under_glob("myteam.github.io", &mut Memo::default()),
            None
        );
        // Rules below, but not directly under every label: the glob covers
        // only single labels, which are the platform's own hosts.
        assert_eq!(
            suffix_under_glob("amazonaws.com", &mut Memo::default()),
            None
        );
    }
}
