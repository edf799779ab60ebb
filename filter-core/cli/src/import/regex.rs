//! Origin regexes from Envoy, Istio and Kong, read with RE2's grammar.
//!
//! A regex is translated only when exact origins or `scheme://*.suffix`
//! patterns allow exactly the origins a browser can send that it matches. The
//! recognizer below accepts a few shapes; every translation is then checked by
//! running the regex and the engine side by side on probe origins, so a regex
//! that also matches `https://evilexample.com` is refused with that example
//! rather than silently widened or narrowed.

use filter_core::{Config, Outcome, Request};
use regex_syntax::hir::{Class, Hir, HirKind, Look, Repetition};
use std::collections::BTreeSet;

/// How the source applies its regex.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Anchoring {
    /// The whole value must match: Envoy and Istio use RE2's full match.
    Full,
    /// Kong drops a leading `^`, appends `$` unless present, and anchors the
    /// match at the start only: an alternative without `$` matches every
    /// value that starts with it.
    KongStart,
}

/// What the regex is matched against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    /// The whole `Origin` value.
    Origin,
    /// The host alone: Kong does this for an entry without `:`, so it
    /// allows any scheme and port. The translation keeps `https` on the
    /// default port, and the caller says so.
    Host,
}

/// A source regex, parsed.
pub struct SourceRegex {
    /// The regex as the source runs it, anchors added.
    hir: Hir,
    /// The pattern the recognizer reads: `(?i)` removed (browsers send
    /// origins in lowercase, so it changes nothing that matters).
    pattern: String,
    fold_case: bool,
    anchoring: Anchoring,
    subject: Subject,
}

/// Why a regex was not translated.
#[derive(Debug)]
pub struct Refusal {
    pub message: String,
    /// The regex matches origins that no reading of it as an exact origin or
    /// `*.` pattern would: some site can take advantage of it.
    pub over_broad: bool,
}

/// How a refusal shows an origin the regex matches and should not.
const EXAMPLE: &str = ", e.g. it matches ";

/// More alternatives than this are not worth translating by machine.
const MAX_ALTERNATIVES: usize = 32;

/// Characters every DNS label may hold; a subdomain wildcard in a regex must
/// allow them all to mean what `*.` means.
const LABEL_CHARS: &str = "abcdefghijklmnopqrstuvwxyz0123456789-";

impl SourceRegex {
    /// # Errors
    /// RE2's complaint when the pattern is not a valid regex.
    pub fn parse(pattern: &str, anchoring: Anchoring, subject: Subject) -> Result<Self, String> {
        let body = match anchoring {
            Anchoring::Full => pattern.to_string(),
            Anchoring::KongStart => {
                let body = pattern.strip_prefix('^').unwrap_or(pattern);
                if body.ends_with('$') {
                    body.to_string()
                } else {
                    format!("{body}$")
                }
            }
        };
        let (fold_case, recognized) = match body.strip_prefix("(?i)") {
            Some(rest) => (true, rest.to_string()),
            None => (false, body.clone()),
        };
        let hir = regex_syntax::parse(&anchor(&body, anchoring))
            .map_err(|e| format!("is not a valid RE2 regex: {}", one_line(&e.to_string())))?;
        Ok(SourceRegex {
            hir,
            pattern: recognized,
            fold_case,
            anchoring,
            subject,
        })
    }

    /// Whether the source would accept this `Origin` value.
    pub fn matches_origin(&self, origin: &str) -> bool {
        let value = match self.subject {
            Subject::Origin => origin,
            Subject::Host => host_of(origin),
        };
        self.is_match(value)
    }

    /// Whether the regex, as the source runs it, matches `value`.
    pub fn is_match(&self, value: &str) -> bool {
        let input = value.as_bytes();
        let ends = ends(&self.hir, input, &BTreeSet::from([0]));
        match self.anchoring {
            Anchoring::Full => ends.contains(&input.len()),
            Anchoring::KongStart => !ends.is_empty(),
        }
    }

    /// The `allow_origins` entries that allow the same origins.
    ///
    /// # Errors
    /// Why no such entries exist, with an origin the regex wrongly allows
    /// when one shows it.
    pub fn translate(&self) -> Result<Vec<String>, Refusal> {
        let refuse = |message: String| Refusal {
            over_broad: message.contains(EXAMPLE),
            message,
        };
        let hir = regex_syntax::parse(&anchor(&self.pattern, self.anchoring)).map_err(|e| {
            refuse(format!(
                "is not a valid RE2 regex: {}",
                one_line(&e.to_string())
            ))
        })?;
        let sequences = expand(&hir).map_err(refuse)?;
        let mut candidates = Vec::new();
        for sequence in &sequences {
            candidates.extend(self.recognize(sequence).map_err(refuse)?);
        }
        let entries = merge_ports(candidates).map_err(refuse)?;
        self.verify(&entries)?;
        Ok(entries)
    }

    /// One alternative, read as origins.
    fn recognize(&self, sequence: &[Atom]) -> Result<Vec<Candidate>, String> {
        let atoms = merge_text(sequence);
        let example = |atoms: &[Atom]| self.example(atoms, false);
        let start = atoms
            .iter()
            .take_while(|a| matches!(a, Atom::Start))
            .count();
        let end = atoms.len()
            - atoms[start..]
                .iter()
                .rev()
                .take_while(|a| matches!(a, Atom::End))
                .count();
        let body = &atoms[start..end];
        if end == atoms.len() {
            return Err(format!(
                "has an alternative that is not anchored at the end, so anything may follow it{}",
                example(&with_tail(&atoms, ".evil.net"))
            ));
        }
        if body.iter().any(|a| matches!(a, Atom::Start | Atom::End)) {
            return Err("has ^ or $ in the middle of an alternative".into());
        }
        let (scheme, host_atoms) = match self.subject {
            Subject::Host => (String::from("https"), body.to_vec()),
            Subject::Origin => match body.first() {
                Some(Atom::Text(text)) if text.contains("://") => {
                    let (scheme, rest) = text.split_once("://").unwrap_or_default();
                    let mut host_atoms = Vec::with_capacity(body.len());
                    if !rest.is_empty() {
                        host_atoms.push(Atom::Text(rest.to_string()));
                    }
                    host_atoms.extend(body[1..].iter().cloned());
                    (scheme.to_string(), host_atoms)
                }
                _ => {
                    return Err(format!(
                        "does not start with a fixed scheme and \"://\", so it matches origins of any scheme{}",
                        example(&atoms)
                    ))
                }
            },
        };
        let scheme = self.lowercase(&scheme, "scheme")?;
        let (host_atoms, port) = split_port(&host_atoms)?;
        let hosts = match host_atoms.as_slice() {
            [Atom::Text(host)] => vec![Host::Exact(self.lowercase(host, "host")?)],
            [Atom::Other(hir), Atom::Text(rest)] => {
                let HirKind::Repetition(rep) = hir.kind() else {
                    return Err(self.not_a_pattern(&atoms));
                };
                self.subdomains(rep, rest, &atoms)?
            }
            [.., Atom::Text(_), Atom::Other(hir)] if is_any_repetition(hir) => {
                return Err(format!(
                    "matches anything after the host{}",
                    example(&with_tail(&body[..body.len() - 1], ".evil.net"))
                ))
            }
            [Atom::Other(hir), Atom::Text(rest), ..] if is_any_repetition(hir) && !rest.starts_with('.') => {
                return Err(format!(
                    "has no \"\\.\" between the wildcard and the domain, so it also matches other domains that end the same way{}",
                    self.example(&atoms, true)
                ))
            }
            _ if host_atoms.iter().any(is_single_any_char) => {
                return Err(format!(
                    "has an unescaped \".\", which matches any character (write \"\\.\"){}",
                    example(&atoms)
                ))
            }
            _ => return Err(self.not_a_pattern(&atoms)),
        };
        Ok(hosts
            .into_iter()
            .map(|host| Candidate {
                scheme: scheme.clone(),
                host,
                port: port.clone(),
            })
            .collect())
    }

    /// `X.suffix` where X is a repetition: a subdomain wildcard, when X
    /// allows any number of labels of any DNS characters.
    fn subdomains(
        &self,
        rep: &Repetition,
        rest: &str,
        atoms: &[Atom],
    ) -> Result<Vec<Host>, String> {
        let example = |atoms: &[Atom]| self.example(atoms, false);
        if rep.max.is_some() {
            return Err(self.not_a_pattern(atoms));
        }
        let rest = self.lowercase(rest, "host")?;
        if let Some(class) = class_of(&rep.sub) {
            let chars = ascii_members(class);
            if !LABEL_CHARS.chars().all(|c| chars.contains(c)) {
                return Err(format!(
                    "allows only [{}] in its subdomain part, not every character a DNS label may have, so no *. pattern means the same",
                    describe_class(&chars)
                ));
            }
            if !chars.contains('.') {
                return Err(format!(
                    "matches exactly one label in its subdomain part ({} but not {}), while a *. pattern matches any depth",
                    sample_host("a", &rest),
                    sample_host("a.b", &rest)
                ));
            }
            let Some(suffix) = rest.strip_prefix('.') else {
                return Err(format!(
                    "has no \"\\.\" between the wildcard and the domain, so it also matches other domains that end the same way{}",
                    example(atoms)
                ));
            };
            return Ok(vec![Host::Subdomains(suffix.to_string())]);
        }
        // `([a-z0-9-]+\.)+domain`: labels, each with its dot.
        if let Some([label, Atom::Text(dot)]) = sequence_of(&rep.sub).as_deref() {
            let label_chars = match label {
                Atom::Other(hir) => match hir.kind() {
                    HirKind::Repetition(inner) if inner.min >= 1 && inner.max.is_none() => {
                        class_of(&inner.sub).map(ascii_members)
                    }
                    _ => None,
                },
                _ => None,
            };
            if let (Some(chars), ".") = (label_chars, dot.as_str()) {
                if !LABEL_CHARS.chars().all(|c| chars.contains(c)) {
                    return Err(format!(
                        "allows only [{}] in its subdomain labels, not every character a DNS label may have, so no *. pattern means the same",
                        describe_class(&chars)
                    ));
                }
                let mut hosts = vec![Host::Subdomains(rest.clone())];
                if rep.min == 0 {
                    hosts.push(Host::Exact(rest));
                }
                return Ok(hosts);
            }
        }
        Err(self.not_a_pattern(atoms))
    }

    fn not_a_pattern(&self, atoms: &[Atom]) -> String {
        format!(
            "is neither one origin nor scheme://*.domain: RE2 features beyond those have no allow_origins equivalent{}",
            self.example(atoms, false)
        )
    }

    /// Literal text of the regex as it would appear in an origin.
    fn lowercase(&self, text: &str, what: &str) -> Result<String, String> {
        if self.fold_case || !text.bytes().any(|b| b.is_ascii_uppercase()) {
            Ok(text.to_ascii_lowercase())
        } else {
            Err(format!(
                "has uppercase letters in its {what} \"{text}\": browsers send origins in lowercase, so it never matched"
            ))
        }
    }

    /// `, e.g. it matches "…"` for a value the atoms describe, when the
    /// regex really matches it; nothing otherwise. A single-character class
    /// stands for `x` (to show an unescaped `.`), or for `.` when `dots`.
    fn example(&self, atoms: &[Atom], dots: bool) -> String {
        let mut value = String::new();
        let mut any_char_seen = false;
        for atom in atoms {
            match atom {
                Atom::Start | Atom::End => {}
                Atom::Text(text) => value.push_str(text),
                // In front of everything, the wildcard also stands for the scheme.
                Atom::Other(hir) if is_any_repetition(hir) && value.is_empty() => {
                    value.push_str(match self.subject {
                        Subject::Origin => "http://a",
                        Subject::Host => "a",
                    })
                }
                Atom::Other(hir) if is_any_repetition(hir) => value.push_str("evil"),
                Atom::Other(hir) => match class_of(hir) {
                    Some(class) => {
                        let chars = ascii_members(class);
                        let pick = if (dots || any_char_seen) && chars.contains('.') {
                            '.'
                        } else if chars.contains('x') {
                            'x'
                        } else {
                            match chars.chars().next() {
                                Some(c) => c,
                                None => return String::new(),
                            }
                        };
                        any_char_seen = true;
                        value.push(pick);
                    }
                    None => return String::new(),
                },
            }
        }
        let origin = match self.subject {
            Subject::Origin => value,
            Subject::Host => format!("https://{value}"),
        };
        if self.matches_origin(&origin) {
            format!("{EXAMPLE}\"{origin}\"")
        } else {
            String::new()
        }
    }

    /// Runs the regex and the engine with the entries on probe origins; any
    /// difference refuses the translation.
    fn verify(&self, entries: &[String]) -> Result<(), Refusal> {
        let document =
            serde_json::json!({"policies": [{"name": "probe", "allow_origins": entries}]});
        let config = Config::from_json(document.to_string().as_bytes()).map_err(|errors| {
            let first = errors.iter().next().map(|e| e.problem().to_string());
            Refusal {
                message: format!(
                    "translates to {} which the filter refuses: {}",
                    entries.join(", "),
                    first.unwrap_or_default()
                ),
                over_broad: false,
            }
        })?;
        let Some(policy) = config.policies().first() else {
            return Err(Refusal {
                message: "translates to no policy".into(),
                over_broad: false,
            });
        };
        let allows = |origin: &str| {
            let request = Request {
                method: b"GET",
                origin: Some(origin.as_bytes()),
                ..Request::default()
            };
            policy.decide(&request).outcome == Outcome::ActualAllowed
        };
        for probe in probes(entries) {
            if self.subject == Subject::Host
                && (!probe.starts_with("https://") || port_of(&probe).is_some())
            {
                continue;
            }
            match (self.matches_origin(&probe), allows(&probe)) {
                (true, false) => {
                    return Err(Refusal {
                        message: format!(
                            "matches \"{probe}\", which {} would not allow",
                            entries.join(", ")
                        ),
                        over_broad: true,
                    })
                }
                (false, true) => {
                    return Err(Refusal {
                        message: format!(
                            "does not match \"{probe}\", which {} would allow",
                            entries.join(", ")
                        ),
                        over_broad: false,
                    })
                }
                _ => {}
            }
        }
        Ok(())
    }
}

fn sample_host(labels: &str, rest: &str) -> String {
    format!("{labels}.{}", rest.strip_prefix('.').unwrap_or(rest))
}

/// RE2's complaint without the pattern it quotes (which has our anchors added).
fn one_line(message: &str) -> String {
    message
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("error: "))
        .unwrap_or(message)
        .to_string()
}

fn anchor(body: &str, anchoring: Anchoring) -> String {
    match anchoring {
        Anchoring::Full => format!("^(?:{body})$"),
        Anchoring::KongStart => format!("^(?:{body})"),
    }
}

fn host_of(origin: &str) -> &str {
    let rest = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    match port_of(origin) {
        Some(port) => &rest[..rest.len() - port.len() - 1],
        None => rest,
    }
}

fn port_of(origin: &str) -> Option<&str> {
    let rest = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    let after_host = rest.rfind(']').map_or(rest, |i| &rest[i..]);
    let (_, port) = after_host.rsplit_once(':')?;
    Some(port)
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
        let mut hosts = Vec::new();
        match host.strip_prefix("*.") {
            Some(suffix) => {
                for labels in ["a", "a.b", "x-1", "evil"] {
                    hosts.push(format!("{labels}.{suffix}"));
                }
                hosts.push(suffix.to_string());
                hosts.push(format!("evil{suffix}"));
                hosts.push(format!("a.{suffix}.evil.net"));
            }
            None => {
                hosts.push(host.to_string());
                hosts.push(format!("a.{host}"));
                hosts.push(format!("evil{host}"));
                hosts.push(format!("{host}.evil.net"));
            }
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

#[derive(Clone, Debug, PartialEq, Eq)]
enum Host {
    Exact(String),
    Subdomains(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Port {
    Default,
    Exact(String),
    /// `(:\d+)?` and the like.
    AnyNumber,
}

#[derive(Clone, Debug)]
struct Candidate {
    scheme: String,
    host: Host,
    port: Port,
}

/// Every alternative of the regex as a flat sequence: alternations and
/// optional parts (`s?`, `(…)?`) are multiplied out.
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
        HirKind::Class(class) => match small_class(class) {
            Some(chars) => chars
                .chars()
                .map(|c| vec![Atom::Text(c.to_string())])
                .collect(),
            None => vec![vec![Atom::Other(hir)]],
        },
        HirKind::Capture(capture) => expand(&capture.sub)?,
        HirKind::Repetition(rep) if rep.max == Some(1) => {
            let mut sequences = expand(&rep.sub)?;
            if rep.min == 0 {
                sequences.insert(0, vec![]);
            }
            sequences
        }
        HirKind::Repetition(_) => vec![vec![Atom::Other(hir)]],
        HirKind::Concat(subs) => {
            let mut product = vec![vec![]];
            for sub in subs {
                let tails = expand(sub)?;
                let mut next = Vec::with_capacity(product.len() * tails.len());
                for head in &product {
                    for tail in &tails {
                        let mut joined: Vec<Atom> = head.clone();
                        joined.extend(tail.iter().cloned());
                        next.push(joined);
                    }
                }
                product = next;
                if product.len() > MAX_ALTERNATIVES {
                    break;
                }
            }
            product
        }
        HirKind::Alternation(subs) => {
            let mut all = Vec::new();
            for sub in subs {
                all.extend(expand(sub)?);
            }
            all
        }
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

fn with_tail<'h>(atoms: &[Atom<'h>], tail: &str) -> Vec<Atom<'h>> {
    let mut atoms: Vec<Atom> = atoms
        .iter()
        .filter(|a| !matches!(a, Atom::End))
        .cloned()
        .collect();
    atoms.push(Atom::Text(tail.to_string()));
    merge_text(&atoms)
}

/// A sub-expression as a flat sequence, when it has no alternatives.
fn sequence_of(hir: &Hir) -> Option<Vec<Atom<'_>>> {
    let mut sequences = expand(hir).ok()?;
    (sequences.len() == 1).then(|| merge_text(&sequences.remove(0)))
}

/// Splits the port off the end of the host part.
fn split_port<'h>(atoms: &[Atom<'h>]) -> Result<(Vec<Atom<'h>>, Port), String> {
    let mut atoms = atoms.to_vec();
    if let [.., Atom::Text(before), Atom::Other(hir)] = atoms.as_slice() {
        if before.ends_with(':') && is_digits_repetition(hir) {
            let host = before[..before.len() - 1].to_string();
            atoms.truncate(atoms.len() - 2);
            if !host.is_empty() {
                atoms.push(Atom::Text(host));
            }
            return Ok((atoms, Port::AnyNumber));
        }
    }
    if let Some(Atom::Text(last)) = atoms.last() {
        let after_host = last.rfind(']').map_or(0, |i| i + 1);
        if let Some(colon) = last[after_host..].rfind(':').map(|i| i + after_host) {
            let port = last[colon + 1..].to_string();
            if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("has a port \"{port}\" that is not a number"));
            }
            let host = last[..colon].to_string();
            atoms.pop();
            if !host.is_empty() {
                atoms.push(Atom::Text(host));
            }
            return Ok((atoms, Port::Exact(port)));
        }
    }
    Ok((atoms, Port::Default))
}

/// Joins the candidates into entries. `host` and `host:\d+` together are
/// `host:*`; `host:\d+` alone requires a port, which no entry can say.
fn merge_ports(candidates: Vec<Candidate>) -> Result<Vec<String>, String> {
    let base = |c: &Candidate| match &c.host {
        Host::Exact(host) => format!("{}://{host}", c.scheme),
        Host::Subdomains(suffix) => format!("{}://*.{suffix}", c.scheme),
    };
    let mut entries: Vec<String> = Vec::new();
    for candidate in &candidates {
        let origin = base(candidate);
        let entry = match &candidate.port {
            Port::Default if candidates.iter().any(|c| c.port == Port::AnyNumber && base(c) == origin) => {
                format!("{origin}:*")
            }
            Port::Default => origin,
            Port::Exact(port) => format!("{origin}:{port}"),
            Port::AnyNumber if candidates.iter().any(|c| c.port == Port::Default && base(c) == origin) => {
                format!("{origin}:*")
            }
            Port::AnyNumber => {
                return Err(format!(
                    "requires a port on {origin}, and the only entry for any port ({origin}:*) would also allow no port"
                ))
            }
        };
        if !entries.contains(&entry) {
            entries.push(entry);
        }
    }
    Ok(entries)
}

/// The members of a class of a few ASCII characters (`[ab]`, or `a|b`,
/// which RE2 reads as a class), to multiply out like an alternation.
fn small_class(class: &Class) -> Option<String> {
    let ascii = match class {
        Class::Unicode(u) => u.ranges().iter().all(|r| r.end().is_ascii()),
        Class::Bytes(c) => c.ranges().iter().all(|r| r.end().is_ascii()),
    };
    let chars = ascii_members(class);
    (ascii && chars.len() <= 8).then_some(chars)
}

fn class_of(hir: &Hir) -> Option<&Class> {
    match hir.kind() {
        HirKind::Class(class) => Some(class),
        HirKind::Capture(capture) => class_of(&capture.sub),
        _ => None,
    }
}

/// The printable ASCII characters a class allows, in order.
fn ascii_members(class: &Class) -> String {
    (0x21u8..0x7f)
        .filter(|&b| match class {
            Class::Unicode(u) => u
                .ranges()
                .iter()
                .any(|r| r.start() <= b as char && b as char <= r.end()),
            Class::Bytes(c) => c.ranges().iter().any(|r| r.start() <= b && b <= r.end()),
        })
        .map(char::from)
        .collect()
}

fn describe_class(chars: &str) -> String {
    if chars.len() > 40 {
        format!("{} characters", chars.len())
    } else {
        chars.to_string()
    }
}

/// `.`: one character of (nearly) any kind.
fn is_single_any_char(atom: &Atom) -> bool {
    matches!(atom, Atom::Other(hir) if class_of(hir).is_some_and(is_any_class))
}

fn is_any_class(class: &Class) -> bool {
    let chars = ascii_members(class);
    chars.contains('.') && chars.contains('/') && chars.contains('a')
}

/// `.*`, `.+` and the like.
fn is_any_repetition(hir: &Hir) -> bool {
    matches!(hir.kind(), HirKind::Repetition(rep)
        if rep.max.is_none() && class_of(&rep.sub).is_some_and(is_any_class))
}

/// `\d+`, `[0-9]{1,5}` and the like: any port number.
fn is_digits_repetition(hir: &Hir) -> bool {
    matches!(hir.kind(), HirKind::Repetition(rep)
        if rep.min <= 1 && rep.max.is_none_or(|m| m >= 5)
            && class_of(&rep.sub).is_some_and(|c| ascii_members(c) == "0123456789"))
}

/// The positions where `hir` can end a match that starts at one of `starts`.
fn ends(hir: &Hir, input: &[u8], starts: &BTreeSet<usize>) -> BTreeSet<usize> {
    match hir.kind() {
        HirKind::Empty => starts.clone(),
        HirKind::Literal(literal) => starts
            .iter()
            .filter(|&&s| input[s..].starts_with(&literal.0))
            .map(|&s| s + literal.0.len())
            .collect(),
        HirKind::Class(class) => starts
            .iter()
            .filter(|&&s| s < input.len() && class_has(class, input[s]))
            .map(|&s| s + 1)
            .collect(),
        HirKind::Look(look) => starts
            .iter()
            .copied()
            .filter(|&s| look_holds(*look, input, s))
            .collect(),
        HirKind::Repetition(rep) => repetition_ends(rep, input, starts),
        HirKind::Capture(capture) => ends(&capture.sub, input, starts),
        HirKind::Concat(subs) => subs
            .iter()
            .fold(starts.clone(), |at, sub| ends(sub, input, &at)),
        HirKind::Alternation(subs) => subs
            .iter()
            .flat_map(|sub| ends(sub, input, starts))
            .collect(),
    }
}

fn repetition_ends(rep: &Repetition, input: &[u8], starts: &BTreeSet<usize>) -> BTreeSet<usize> {
    let mut result = if rep.min == 0 {
        starts.clone()
    } else {
        BTreeSet::new()
    };
    let mut current = starts.clone();
    let mut count = 0;
    while rep.max.is_none_or(|max| count < max) {
        current = ends(&rep.sub, input, &current);
        count += 1;
        if count >= rep.min {
            // Past the minimum, a position reached again adds nothing.
            current.retain(|p| !result.contains(p));
            result.extend(current.iter().copied());
        }
        if current.is_empty() {
            break;
        }
    }
    result
}

fn class_has(class: &Class, byte: u8) -> bool {
    match class {
        Class::Unicode(u) => {
            byte.is_ascii()
                && u.ranges()
                    .iter()
                    .any(|r| r.start() <= byte as char && byte as char <= r.end())
        }
        Class::Bytes(c) => c
            .ranges()
            .iter()
            .any(|r| r.start() <= byte && byte <= r.end()),
    }
}

fn look_holds(look: Look, input: &[u8], at: usize) -> bool {
    let word = |i: Option<usize>| {
        i.and_then(|i| input.get(i))
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
    };
    let before = word(at.checked_sub(1));
    let after = word(Some(at));
    match look {
        Look::Start => at == 0,
        Look::End => at == input.len(),
        Look::StartLF => at == 0 || input[at - 1] == b'\n',
        Look::EndLF => at == input.len() || input[at] == b'\n',
        Look::StartCRLF => at == 0 || matches!(input[at - 1], b'\n' | b'\r'),
        Look::EndCRLF => at == input.len() || matches!(input[at], b'\n' | b'\r'),
        Look::WordAscii | Look::WordUnicode => before != after,
        Look::WordAsciiNegate | Look::WordUnicodeNegate => before == after,
        Look::WordStartAscii | Look::WordStartUnicode => !before && after,
        Look::WordEndAscii | Look::WordEndUnicode => before && !after,
        Look::WordStartHalfAscii | Look::WordStartHalfUnicode => !before,
        Look::WordEndHalfAscii | Look::WordEndHalfUnicode => !after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn translate(pattern: &str) -> Result<Vec<String>, String> {
        let regex = SourceRegex::parse(pattern, Anchoring::Full, Subject::Origin)?;
        regex.translate().map_err(|r| r.message)
    }

    #[test]
    fn safe_shapes_translate() {
        let cases: &[(&str, &[&str])] = &[
            (r"^https://.*\.example\.com$", &["https://*.example.com"]),
            (r"https://.+\.example\.com", &["https://*.example.com"]),
            (r"https://app\.example\.com", &["https://app.example.com"]),
            (
                r"^https://([a-z0-9-]+\.)*example\.com$",
                &["https://*.example.com", "https://example.com"],
            ),
            (
                r"^https?://app\.example\.com$",
                &["http://app.example.com", "https://app.example.com"],
            ),
            (r"^http://localhost(:\d+)?$", &["http://localhost:*"]),
            (
                r"(?i)^https://APP\.example\.com$",
                &["https://app.example.com"],
            ),
            (
                r"^https://(a|b)\.example\.com$",
                &["https://a.example.com", "https://b.example.com"],
            ),
        ];
        for (pattern, entries) in cases {
            let expected: Vec<String> = entries.iter().map(|e| e.to_string()).collect();
            assert_eq!(translate(pattern), Ok(expected), "{pattern}");
        }
    }

    #[test]
    fn unsafe_shapes_are_refused_with_an_example() {
        let cases = [
            (r"^https://.*example\.com$", "https://evilexample.com"),
            (r"^https://app.example.com$", "https://appxexample.com"),
            (
                r"^https://app\.example\.com.*$",
                "https://app.example.com.evil.net",
            ),
            (r".*\.example\.com", "any scheme"),
            (r"^https://[^.]+\.example\.com$", "exactly one label"),
            (r"^https://App\.example\.com$", "uppercase"),
            (r"^https://[a-z]+\.example\.com$", "every character"),
            (r"^https://app\.example\.com:\d+$", "requires a port"),
        ];
        for (pattern, why) in cases {
            let refusal = translate(pattern).unwrap_err();
            assert!(refusal.contains(why), "{pattern}: {refusal}");
        }
    }

    #[test]
    fn kong_anchors_only_the_last_alternative() {
        let regex = SourceRegex::parse(
            r"https://a\.example\.com|https://b\.example\.com",
            Anchoring::KongStart,
            Subject::Origin,
        )
        .unwrap();
        assert!(regex.is_match("https://a.example.com.evil.net"));
        assert!(!regex.is_match("https://b.example.com.evil.net"));
        let refusal = regex.translate().unwrap_err();
        assert!(refusal.over_broad);
        assert!(
            refusal.message.contains("https://a.example.com.evil.net"),
            "{}",
            refusal.message
        );
    }

    #[test]
    fn matcher_follows_re2() {
        let regex =
            SourceRegex::parse(r"a(b|cd)*e{2,3}", Anchoring::Full, Subject::Origin).unwrap();
        for (value, matches) in [
            ("aee", true),
            ("abcdbeee", true),
            ("abce", false),
            ("aeeee", false),
        ] {
            assert_eq!(regex.is_match(value), matches, "{value}");
        }
    }
}
