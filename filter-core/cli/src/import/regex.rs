//! Origin regexes from Envoy, Istio and Kong, read with RE2's grammar.
//!
//! A small recognizer over `regex-syntax` reads each alternative of a regex as
//! one `allow_origins` entry: literal text stays, a wildcard before `\.domain`
//! becomes `*.`, a repetition of label characters inside a label becomes a
//! single-label glob `*`, and `(:\d+)?` becomes `:*`. Every translation is
//! then checked by running the regex (the `regex` crate) and the engine side
//! by side on probe origins: a regex that also matches
//! `https://evilexample.com` is refused with that example, and a translation
//! that allows more than the regex did is kept only where the recognizer took
//! that liberty on purpose (a glob for `[0-9]+`), with an example to review.

use super::{Draft, Severity};
use filter_core::Config;
use regex::Regex;
use regex_syntax::hir::{Class, Hir, HirKind, Look};
use std::collections::BTreeSet;

/// How the source applies its regex.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Anchoring {
    /// The whole value must match: Envoy and Istio use RE2's full match.
    Full,
    /// Anchored at the start only: Kong (which appends `$` itself).
    Start,
}

/// Adds the entries that mean the same as a source's origin regex, or
/// flags why none do. `shown` is the regex as the user wrote it;
/// `pattern` what the source runs.
pub fn import(draft: &mut Draft, source: &str, shown: &str, pattern: &str, anchoring: Anchoring) {
    let proxy = draft.proxy;
    let translated = SourceRegex::parse(pattern, anchoring).and_then(|parsed| match parsed.regex.is_match("*") {
        // Envoy's filter allows every origin when a matcher matches "*".
        true if anchoring == Anchoring::Full => {
            let why = format!("regex \"{shown}\" matches the text \"*\", which {proxy} takes as allowing every origin; imported as \"*\"");
            draft.flag(Severity::Insecure, source, why);
            Ok((vec!["*".to_string()], None))
        }
        _ => parsed.translate(),
    });
    match translated {
        Ok((entries, widens)) => {
            if let Some(widens) = widens {
                let why =
                    format!("regex \"{shown}\" is imported as a glob that allows more: {widens}");
                draft.flag(Severity::Widening, source, why);
            }
            for entry in entries {
                draft.origin(source, entry);
            }
        }
        Err(why) => {
            // The regex matches an origin no entry allows: a site can use it.
            let severity = match why.contains(EXAMPLE) || why.starts_with("matches") {
                true => Severity::Insecure,
                false => Severity::Untranslatable,
            };
            let why = format!("regex \"{shown}\" is left out: it {why}");
            draft.flag(severity, source, why);
        }
    }
}

/// A source regex, parsed.
struct SourceRegex {
    /// The regex as the source runs it, anchors added.
    regex: Regex,
    /// What the recognizer reads: `(?i)` removed (browsers send origins in
    /// lowercase, so it changes nothing that matters).
    hir: Hir,
    fold_case: bool,
}

/// How a refusal shows an origin the regex matches and should not.
const EXAMPLE: &str = ", e.g. it matches ";

/// More alternatives than this are not worth translating by machine.
const MAX_ALTERNATIVES: usize = 32;

/// Characters every DNS label may hold; a wildcard must allow them all to
/// mean what `*` means.
const LABEL_CHARS: &str = "abcdefghijklmnopqrstuvwxyz0123456789-";

impl SourceRegex {
    /// The complaint when the pattern is not a valid RE2 regex.
    fn parse(pattern: &str, anchoring: Anchoring) -> Result<Self, String> {
        let anchor = |body: &str| match anchoring {
            Anchoring::Full => format!("^(?:{body})$"),
            Anchoring::Start => format!("^(?:{body})"),
        };
        let invalid = |e: String| {
            let line = e
                .lines()
                .rev()
                .find_map(|l| l.trim().strip_prefix("error: "));
            format!("is not a valid RE2 regex: {}", line.unwrap_or(&e))
        };
        let regex = Regex::new(&anchor(pattern)).map_err(|e| invalid(e.to_string()))?;
        let plain = pattern.strip_prefix("(?i)");
        let hir = regex_syntax::parse(&anchor(plain.unwrap_or(pattern)))
            .map_err(|e| invalid(e.to_string()))?;
        let fold_case = plain.is_some();
        Ok(SourceRegex {
            regex,
            hir,
            fold_case,
        })
    }

    /// The `allow_origins` entries that allow the same origins, and what
    /// they allow besides when a glob took a liberty; or why there are none,
    /// with an origin the regex wrongly allows when one shows it.
    fn translate(&self) -> Result<(Vec<String>, Option<String>), String> {
        let mut entries: Vec<String> = Vec::new();
        let mut liberal = false;
        for alternative in expand(&self.hir)? {
            let rendered = self.render(&merge_text(&alternative))?;
            if let Some((entry, took_liberty)) = rendered {
                liberal |= took_liberty;
                if !entries.contains(&entry) {
                    entries.push(entry);
                }
            }
        }
        // `host` and `host:*` together are `host:*`.
        let any_port: Vec<String> = entries
            .iter()
            .filter_map(|e| Some(e.strip_suffix(":*")?.to_string()))
            .collect();
        entries.retain(|e| !any_port.contains(e));
        if entries.is_empty() {
            return Err("does not match any origin a browser sends".into());
        }
        let widens = self.verify(&entries, liberal)?;
        Ok((entries, widens))
    }

    /// One alternative as an entry, and whether a glob there allows more
    /// than the regex; `None` when it matches no origin a browser can send
    /// (`https://.example.com`).
    fn render(&self, atoms: &[Atom]) -> Result<Option<(String, bool)>, String> {
        // The anchors added around the pattern may double the user's own.
        let body = &atoms[atoms
            .iter()
            .take_while(|a| matches!(a, Atom::Start))
            .count()..];
        let ends = body
            .iter()
            .rev()
            .take_while(|a| matches!(a, Atom::End))
            .count();
        if ends == 0 {
            return Err(format!(
                "has an alternative that is not anchored at the end, so anything may follow it{}",
                self.example(body, ".evil.net")
            ));
        }
        let body = &body[..body.len() - ends];
        if body.iter().any(|a| matches!(a, Atom::Start | Atom::End)) {
            return Err("has ^ or $ in the middle of an alternative".into());
        }
        if !matches!(body.first(), Some(Atom::Text(text)) if text.contains("://")) {
            return Err(format!(
                "does not start with a fixed scheme and \"://\", so it matches origins of any scheme{}",
                self.example(body, "")
            ));
        }
        let mut entry = String::new();
        let mut liberal = false;
        for (i, atom) in body.iter().enumerate() {
            let next = match body.get(i + 1) {
                Some(Atom::Text(t)) => Some(t.as_str()),
                _ => None,
            };
            let at_host_start = entry.ends_with("://");
            let Atom::Other(hir) = atom else {
                let Atom::Text(text) = atom else { continue };
                if !self.fold_case && text.bytes().any(|b| b.is_ascii_uppercase()) {
                    return Err(format!("has uppercase letters in \"{text}\": browsers send origins in lowercase, so it never matched"));
                }
                entry.push_str(&text.to_ascii_lowercase());
                continue;
            };
            match wildcard(hir) {
                // `.*\.domain`, `([a-z0-9-]+\.)+domain`: any depth of subdomain.
                Some((chars, true)) if at_host_start && covers_label(&chars) => {
                    let dot_follows = next.is_some_and(|t| t.starts_with('.'));
                    let own_dot = matches!(hir.kind(), HirKind::Repetition(r) if class_of(&r.sub).is_none());
                    if !dot_follows && !own_dot {
                        return Err(format!(
                            "has no \"\\.\" between the wildcard and the domain, so it also matches other domains that end the same way{}",
                            self.example(body, "")
                        ));
                    }
                    entry.push_str(if own_dot { "*." } else { "*" });
                }
                Some((_, true)) if next.is_none() => {
                    return Err(format!(
                        "matches anything after the host{}",
                        self.example(&body[..i], ".evil.net")
                    ))
                }
                // `\d+` after `:`: any port.
                Some((chars, false)) if entry.ends_with(':') && chars == "0123456789" => {
                    entry.push('*')
                }
                // `[a-z0-9-]+` in a label: a single-label glob.
                Some((chars, false)) if !entry.contains('*') => {
                    liberal |= !covers_label(&chars) || at_host_start;
                    entry.push('*');
                }
                _ => {
                    return Err(format!(
                        "is neither one origin nor a pattern (an unescaped \".\" matches any character: write \"\\.\"){}",
                        self.example(body, "")
                    ))
                }
            }
        }
        let host = entry.split_once("://").map_or("", |(_, rest)| rest);
        Ok((!host.is_empty() && !host.starts_with('.')).then_some((entry, liberal)))
    }

    /// `, e.g. it matches "…"` for a value the atoms describe, then `tail`,
    /// when the regex really matches it; nothing otherwise. A repetition
    /// stands for `evil`, the first single character for `x`, the next for `.`.
    fn example(&self, atoms: &[Atom], tail: &str) -> String {
        let mut value = String::new();
        let mut singles = 0;
        for atom in atoms {
            match atom {
                Atom::Start | Atom::End => {}
                Atom::Text(text) => value.push_str(text),
                // In front of everything, the wildcard also stands for the scheme.
                Atom::Other(hir) if wildcard(hir).is_some() && value.is_empty() => {
                    value.push_str("http://a")
                }
                Atom::Other(hir) if wildcard(hir).is_some() => value.push_str("evil"),
                Atom::Other(_) => {
                    value.push(if singles == 0 { 'x' } else { '.' });
                    singles += 1;
                }
            }
        }
        value.push_str(tail);
        match self.regex.is_match(&value) {
            true => format!("{EXAMPLE}\"{value}\""),
            false => String::new(),
        }
    }

    /// Runs the regex and the engine with the entries on probe origins. The
    /// regex matching an origin the entries do not allow refuses the
    /// translation; the reverse does too, unless `liberal` (a glob stood in
    /// for a narrower class), when it is what the translation widens.
    fn verify(&self, entries: &[String], liberal: bool) -> Result<Option<String>, String> {
        let listed = entries.join(", ");
        let document =
            serde_json::json!({"policies": [{"name": "probe", "allow_origins": entries}]});
        let config = Config::from_json(document.to_string().as_bytes()).map_err(|errors| {
            let first = errors.iter().next().map(|e| e.problem().to_string());
            format!(
                "translates to {listed}, which the filter refuses: {}",
                first.unwrap_or_default()
            )
        })?;
        let allows = |origin: &str| {
            let allows = |p: &filter_core::Policy| p.allows_origin(origin.as_bytes());
            config.policies().iter().any(allows)
        };
        let mut widens = None;
        for probe in probes(entries) {
            match (self.regex.is_match(&probe), allows(&probe)) {
                (true, false) => {
                    return Err(format!(
                        "matches \"{probe}\", which {listed} would not allow"
                    ))
                }
                (false, true) if liberal => {
                    let why =
                        format!("{listed} also allows \"{probe}\", which the regex does not match");
                    widens.get_or_insert(why);
                }
                (false, true) => {
                    return Err(format!(
                        "does not match \"{probe}\", which {listed} would allow"
                    ))
                }
                _ => {}
            }
        }
        Ok(widens)
    }
}

/// Origins near the entries, allowed or not, on which a faithful
/// translation and the regex must agree.
fn probes(entries: &[String]) -> BTreeSet<String> {
    let mut probes = BTreeSet::new();
    for entry in entries {
        let Some((scheme, rest)) = entry.split_once("://") else {
            continue;
        };
        let (host, port) = match rest.rsplit_once(':').filter(|(_, p)| !p.contains(']')) {
            Some((host, port)) => (host, Some(port)),
            None => (rest, None),
        };
        let fill = |text: &str| host.replacen('*', text, 1);
        let mut hosts = vec![fill("1"), fill("a-b"), fill("evil"), fill("a.b")];
        hosts.extend([format!("x{}", fill("1")), format!("{}.evil.net", fill("1"))]);
        match host.strip_prefix("*.") {
            Some(suffix) => hosts.extend([suffix.to_string(), format!("evil{suffix}")]),
            None => hosts.push(fill("")),
        }
        let ports: Vec<String> = match port {
            None | Some("*") => vec![String::new(), ":8443".into()],
            Some(p) => vec![String::new(), format!(":{p}"), format!(":{p}0")],
        };
        let other_scheme = if scheme == "https" { "http" } else { "https" };
        for host in &hosts {
            for port in &ports {
                for scheme in [scheme, other_scheme] {
                    probes.insert(format!("{scheme}://{host}{port}"));
                }
            }
        }
    }
    probes
}

/// One element of an alternative: literal text, an anchor, or anything else
/// (a class or a repetition), kept for the recognizer to look into.
#[derive(Clone, Debug)]
enum Atom<'h> {
    Text(String),
    Start,
    End,
    Other(&'h Hir),
}

/// Every alternative of the regex as a flat sequence: alternations, optional
/// parts (`s?`, `(…)?`) and repetitions that may be empty (`x*` is `x+` or
/// nothing) are multiplied out.
fn expand(hir: &Hir) -> Result<Vec<Vec<Atom<'_>>>, String> {
    let sequences = match hir.kind() {
        HirKind::Empty => vec![vec![]],
        HirKind::Literal(literal) => match std::str::from_utf8(&literal.0) {
            Ok(text) => vec![vec![Atom::Text(text.to_string())]],
            Err(_) => return Err("matches bytes that are not text".into()),
        },
        HirKind::Look(Look::Start | Look::StartLF | Look::StartCRLF) => vec![vec![Atom::Start]],
        HirKind::Look(Look::End | Look::EndLF | Look::EndCRLF) => vec![vec![Atom::End]],
        HirKind::Look(_) => return Err("uses word-boundary assertions".into()),
        // `[ab]` (and `a|b`, which RE2 reads as a class) like an alternation;
        // what is not printable ASCII is never in an origin.
        HirKind::Class(class) if members(class).len() <= 8 => members(class)
            .chars()
            .map(|c| vec![Atom::Text(c.to_string())])
            .collect(),
        HirKind::Class(_) => vec![vec![Atom::Other(hir)]],
        HirKind::Capture(capture) => expand(&capture.sub)?,
        HirKind::Repetition(rep) if rep.max == Some(1) => {
            let optional = if rep.min == 0 { vec![vec![]] } else { vec![] };
            [optional, expand(&rep.sub)?].concat()
        }
        HirKind::Repetition(rep) if rep.min == 0 => vec![vec![Atom::Other(hir)], vec![]],
        HirKind::Repetition(_) => vec![vec![Atom::Other(hir)]],
        HirKind::Concat(subs) => {
            let mut product = vec![vec![]];
            for sub in subs {
                let tails = expand(sub)?;
                product = product
                    .iter()
                    .flat_map(|head| {
                        tails
                            .iter()
                            .map(move |tail| [head.clone(), tail.clone()].concat())
                    })
                    .take(MAX_ALTERNATIVES + 1)
                    .collect();
            }
            product
        }
        HirKind::Alternation(subs) => subs
            .iter()
            .map(expand)
            .collect::<Result<Vec<_>, _>>()?
            .concat(),
    };
    if sequences.len() > MAX_ALTERNATIVES {
        return Err(format!(
            "has more than {MAX_ALTERNATIVES} alternatives: list the origins instead"
        ));
    }
    Ok(sequences)
}

fn merge_text<'h>(atoms: &[Atom<'h>]) -> Vec<Atom<'h>> {
    let mut merged: Vec<Atom> = Vec::with_capacity(atoms.len());
    for atom in atoms {
        match (merged.last_mut(), atom) {
            (Some(Atom::Text(prev)), Atom::Text(text)) => prev.push_str(text),
            _ => merged.push(atom.clone()),
        }
    }
    merged
}

/// A repetition that stands for a run of host characters: the characters it
/// allows, and whether it crosses labels (`.*`, `([a-z0-9-]+\.)+`).
fn wildcard(hir: &Hir) -> Option<(String, bool)> {
    let HirKind::Repetition(rep) = hir.kind() else {
        return None;
    };
    if let Some(class) = class_of(&rep.sub) {
        let chars = members(class);
        let crosses = chars.contains('.');
        return (rep.max.is_none() || !crosses).then_some((chars, crosses));
    }
    // `([a-z0-9-]+\.)+`: labels, each with its dot.
    let mut sequences = expand(&rep.sub).ok()?;
    if sequences.len() != 1 || rep.max.is_some() {
        return None;
    }
    match merge_text(&sequences.remove(0)).as_slice() {
        [Atom::Other(label), Atom::Text(dot)] if dot == "." => {
            let (chars, crosses) = wildcard(label)?;
            (!crosses).then_some((chars, true))
        }
        _ => None,
    }
}

fn class_of(hir: &Hir) -> Option<&Class> {
    match hir.kind() {
        HirKind::Class(class) => Some(class),
        HirKind::Capture(capture) => class_of(&capture.sub),
        _ => None,
    }
}

/// The printable ASCII characters a class allows, in order.
fn members(class: &Class) -> String {
    let has = |b: u8| match class {
        Class::Unicode(u) => u
            .ranges()
            .iter()
            .any(|r| (r.start()..=r.end()).contains(&char::from(b))),
        Class::Bytes(c) => c
            .ranges()
            .iter()
            .any(|r| (r.start()..=r.end()).contains(&b)),
    };
    (0x21u8..0x7f).filter(|&b| has(b)).map(char::from).collect()
}

fn covers_label(chars: &str) -> bool {
    LABEL_CHARS.chars().all(|c| chars.contains(c))
}
