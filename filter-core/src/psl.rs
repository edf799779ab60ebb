//! The Public Suffix List (publicsuffix.org), ICANN and private sections,
//! compiled in from a dated snapshot, so that a credentialed wildcard can
//! never span sites of different owners (`https://*.github.io`).
//!
//! The snapshot (`psl/suffixes.txt`, written by `scripts/refresh-psl.sh`) is
//! the list as a trie in text, read from the top-level label down:
//! `item := ["?"] label ["{" item ("," item)* "}"]`, items separated by `,`,
//! children sorted. `?` marks a node that is not a rule itself (only a step
//! towards rules below it); wildcard rules are children named `*`, exception
//! rules children named `!label`. Top-level labels with nothing below them are
//! left out: every single label is a public suffix anyway (the list's default
//! rule). A text trie is 70 KB, and is read by a linear scan at config time
//! only; the `psl` crate costs the Envoy module more (figures in the README).

use alloc::string::String;

/// The date of the compiled-in Public Suffix List snapshot (`YYYY-MM-DD`).
pub const PSL_SNAPSHOT_DATE: &str = include_str!("psl/date.txt").trim_ascii();

const SUFFIXES: &[u8] = include_bytes!("psl/suffixes.txt");

/// One node of the trie.
#[derive(Clone, Copy)]
struct Node<'a> {
    /// The node's own name is a rule (`co.uk`).
    rule: bool,
    /// The items below it, without the braces.
    children: &'a [u8],
}

impl<'a> Node<'a> {
    /// The child whose label `fits`, if any.
    fn child(self, fits: impl Fn(&[u8]) -> bool) -> Option<(&'a [u8], Node<'a>)> {
        let list = self.children;
        let mut i = 0;
        while i < list.len() {
            let rule = list[i] != b'?';
            if !rule {
                i += 1;
            }
            let start = i;
            while i < list.len() && !matches!(list[i], b'{' | b',' | b'}') {
                i += 1;
            }
            let label = &list[start..i];
            let mut children: &[u8] = &[];
            if list.get(i) == Some(&b'{') {
                let open = i + 1;
                let mut depth = 0;
                while i < list.len() {
                    depth += match list[i] {
                        b'{' => 1,
                        b'}' => -1,
                        _ => 0,
                    };
                    i += 1;
                    if depth == 0 {
                        break;
                    }
                }
                children = &list[open..i - 1];
            }
            if fits(label) {
                return Some((label, Node { rule, children }));
            }
            i += 1;
        }
        None
    }
}

/// The node for `domain` (lowercase labels, no trailing dot), if the list
/// names it or anything below it.
fn find(domain: &[u8]) -> Option<Node<'static>> {
    let mut node = Node {
        rule: false,
        children: SUFFIXES,
    };
    for (depth, label) in domain.rsplit(|&b| b == b'.').enumerate() {
        node = match node.child(|l| l == label) {
            Some((_, child)) => child,
            // A top-level label left out of the snapshot.
            None if depth == 0 => Node {
                rule: true,
                children: &[],
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
        let exception = |l: &[u8]| l.first() == Some(&b'!') && &l[1..] == first;
        if parent.child(exception).is_some() {
            return false;
        }
        if parent.child(|l| l == b"*").is_some() {
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
        let (label, child) = node.child(|l| l.first() != Some(&b'!'))?;
        let label = core::str::from_utf8(label).ok()?;
        name.insert(0, '.');
        name.insert_str(0, label);
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
    find(domain.as_bytes())?.child(|l| l == b"*")?;
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
