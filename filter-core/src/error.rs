//! Why a config was refused. Every problem names the policy, the field and
//! the value, so that the one log line a user sees is enough to fix it.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use serde::de::{DeserializeOwned, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::{Deserializer, Serialize};
use serde_json::Number;

/// The longest value quoted in an error message; longer ones are cut. Long
/// enough for any origin (a host has at most 253 bytes) to be quoted whole.
const MAX_QUOTED_VALUE: usize = 300;

/// Every problem found in one plugin JSON document, in document order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub(crate) Vec<ConfigError>);

impl ConfigErrors {
    /// The problems, at least one.
    pub fn iter(&self) -> impl Iterator<Item = &ConfigError> {
        self.0.iter()
    }
}

/// Renders one problem per line.
impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

/// One problem: where it is (policy, field), what was written there (value)
/// and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub(crate) policy: Option<PolicyRef>,
    pub(crate) field: FieldPath,
    pub(crate) value: Option<String>,
    pub(crate) problem: Problem,
}

impl ConfigError {
    /// The policy the problem is in; `None` for the top level.
    pub fn policy(&self) -> Option<&PolicyRef> {
        self.policy.as_ref()
    }
    /// The field's path inside the policy (or the document), such as
    /// `allow_origins[2]`; empty for the policy or document itself.
    pub fn field(&self) -> &FieldPath {
        &self.field
    }
    /// The offending value as JSON, shortened when long.
    pub fn value(&self) -> Option<&str> {
        self.value.as_deref()
    }
    /// What is wrong.
    pub fn problem(&self) -> &Problem {
        &self.problem
    }
}

/// `policy "api" allow_origins[2] "https://*.com": a wildcard may not cover a whole top-level domain`
impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut prefix = String::new();
        if let Some(policy) = &self.policy {
            prefix = policy.to_string();
        }
        let field = self.field.to_string();
        for part in [Some(field.as_str()), self.value.as_deref()]
            .into_iter()
            .flatten()
            .filter(|p| !p.is_empty())
        {
            if !prefix.is_empty() {
                prefix.push(' ');
            }
            prefix.push_str(part);
        }
        if prefix.is_empty() {
            write!(f, "{}", self.problem)
        } else {
            write!(f, "{prefix}: {}", self.problem)
        }
    }
}

/// Which policy a problem is in: by name once it has a usable one, else by
/// its position in `policies`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRef {
    /// The position in `policies`.
    pub index: usize,
    /// The policy's `name`, when it is a non-empty string.
    pub name: Option<String>,
}

/// `policy "api"`, or `policies[1]` before a name is known.
impl fmt::Display for PolicyRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "policy {}", quote(name)),
            None => write!(f, "policies[{}]", self.index),
        }
    }
}

/// Where in a policy (or in the document) a value is: `allow_origins[2]`,
/// `match.hosts`. Segments, so that tools act on a field without parsing text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldPath(Vec<Segment>);

/// One step of a [`FieldPath`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// A member of an object, by key.
    Field(String),
    /// An element of a list, by position.
    Index(usize),
}

impl FieldPath {
    /// The path of a field: `FieldPath::field("allow_origins")`.
    pub fn field(name: &str) -> FieldPath {
        FieldPath(Vec::from([Segment::Field(name.into())]))
    }

    /// This path, then element `index`: `allow_origins[2]`.
    #[must_use]
    pub fn index(mut self, index: usize) -> FieldPath {
        self.0.push(Segment::Index(index));
        self
    }

    /// This path, then member `name`: `match.hosts`.
    #[must_use]
    pub fn then(mut self, name: &str) -> FieldPath {
        self.0.push(Segment::Field(name.into()));
        self
    }

    /// The segments, outermost first.
    pub fn segments(&self) -> &[Segment] {
        &self.0
    }
}

/// `match.hosts[0]`; empty for the document or policy itself.
impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Field(name) if i == 0 => f.write_str(name)?,
                Segment::Field(name) => write!(f, ".{name}")?,
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

/// Collects the problems of a document as its parts are compiled, each under
/// the policy being compiled.
#[derive(Default)]
pub(crate) struct Report {
    pub(crate) errors: Vec<ConfigError>,
    pub(crate) policy: Option<PolicyRef>,
}

impl Report {
    /// Records a problem with `field` of the current policy; `value` is
    /// quoted as JSON.
    pub(crate) fn problem<T: Serialize + ?Sized>(
        &mut self,
        field: FieldPath,
        value: Option<&T>,
        problem: Problem,
    ) {
        self.errors.push(ConfigError {
            policy: self.policy.clone(),
            field,
            value: value.map(quote),
            problem,
        });
    }
}

/// A value as JSON, cut short when long, for error messages.
fn quote<T: Serialize + ?Sized>(value: &T) -> String {
    cut(serde_json::to_string(value).unwrap_or_default())
}

/// JSON cut short when long, for error messages.
fn cut(mut json: String) -> String {
    if json.len() > MAX_QUOTED_VALUE {
        let mut end = MAX_QUOTED_VALUE;
        while !json.is_char_boundary(end) {
            end -= 1;
        }
        json.truncate(end);
        json.push('…');
    }
    json
}

/// Reads a document into `T`, or says where and why it does not fit: the
/// line and column, the policy, the field and the value.
pub(crate) fn read<T: DeserializeOwned>(json: &[u8]) -> Result<T, ConfigErrors> {
    let mut deserializer = serde_json::Deserializer::from_slice(json);
    let (path, error) = match serde_path_to_error::deserialize(&mut deserializer) {
        Ok(t) => match deserializer.end() {
            Ok(()) => return Ok(t),
            Err(trailing) => return Err(syntax_error(&trailing)),
        },
        Err(error) => (error.path().clone(), error.into_inner()),
    };
    let mut field: Vec<Segment> = path
        .iter()
        .filter_map(|segment| match segment {
            serde_path_to_error::Segment::Seq { index } => Some(Segment::Index(*index)),
            serde_path_to_error::Segment::Map { key } => Some(Segment::Field(key.clone())),
            _ => None,
        })
        .collect();
    // Read again as plain JSON (on this path only), to tell a document that
    // is not JSON from one that is but does not fit, and in that case to
    // quote the value and name the policy.
    let value = match Walk::read(json, &field) {
        Ok(value) => value,
        Err(syntax) => return Err(syntax_error(&syntax)),
    };
    let policy = match field.as_slice() {
        [Segment::Field(key), Segment::Index(index), ..] if key == "policies" => {
            let name = [
                field[0].clone(),
                field[1].clone(),
                Segment::Field("name".into()),
            ];
            let name = match Walk::read(json, &name) {
                Ok(Some(Found::String(name))) if !name.is_empty() => Some(name),
                _ => None,
            };
            let policy = PolicyRef {
                index: *index,
                name,
            };
            field.drain(..2);
            Some(policy)
        }
        _ => None,
    };
    // A missing or unknown field is reported on the object that holds it:
    // quoting the whole object would say nothing new.
    let value = value.and_then(Found::quoted);
    Err(ConfigErrors(Vec::from([ConfigError {
        policy,
        field: FieldPath(field),
        value,
        problem: Problem::Shape(ReadError::of(&error)),
    }])))
}

/// The value at a path of a JSON document, as [`Walk`] finds it.
enum Found {
    String(String),
    /// An object, as compact JSON.
    Object(String),
    /// Any other value, as compact JSON.
    Other(String),
}

impl Found {
    /// The value as JSON for a message, cut short when long; `None` for an object.
    fn quoted(self) -> Option<String> {
        match self {
            Found::String(string) => Some(quote(&string)),
            Found::Object(_) => None,
            Found::Other(json) => Some(cut(json)),
        }
    }

    /// The value as compact JSON.
    fn json(self) -> String {
        match self {
            Found::String(string) => serde_json::to_string(&string).unwrap_or_default(),
            Found::Object(json) | Found::Other(json) => json,
        }
    }
}

/// Reads a whole JSON document and finds the value at a path in it, as
/// `serde_json::Value` does (of an object's members with one name, the last
/// counts) and prints it (compact, object members sorted by name), with the
/// same parser and so the same syntax errors: `Value`, its map and its
/// printer made the Envoy module 3.1 KB larger. `None` walks past a value
/// that is not on the path.
struct Walk<'a>(Option<&'a [Segment]>);

impl Walk<'_> {
    fn read(json: &[u8], path: &[Segment]) -> Result<Option<Found>, serde_json::Error> {
        let mut deserializer = serde_json::Deserializer::from_slice(json);
        let found = Walk(Some(path)).deserialize(&mut deserializer)?;
        deserializer.end()?;
        Ok(found)
    }

    /// The walk into a member or element, which `here` says is at the
    /// path's next step or not.
    fn step(&self, here: impl Fn(&Segment) -> bool) -> Walk<'_> {
        match self.0 {
            Some([]) => Walk(Some(&[])),
            Some([next, rest @ ..]) if here(next) => Walk(Some(rest)),
            _ => Walk(None),
        }
    }

    /// A value that is not a list or an object, if it is the one wanted.
    fn leaf<E>(&self, found: impl FnOnce() -> Found) -> Result<Option<Found>, E> {
        Ok((self.0 == Some(&[])).then(found))
    }
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = Option<Found>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = Option<Found>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        self.leaf(|| Found::Other(v.to_string()))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        self.leaf(|| Found::Other(Number::from(v).to_string()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        self.leaf(|| Found::Other(Number::from(v).to_string()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        let number = Number::from_f64(v).map_or_else(|| "null".into(), |n| n.to_string());
        self.leaf(|| Found::Other(number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        self.leaf(|| Found::String(v.into()))
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        self.leaf(|| Found::Other("null".into()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let (mut found, mut items) = (None, Vec::new());
        let mut index = 0;
        while let Some(item) = seq.next_element_seed(self.step(|s| *s == Segment::Index(index)))? {
            match (self.0, item) {
                (Some([]), Some(item)) => items.push(item.json()),
                (_, item) => found = found.or(item),
            }
            index += 1;
        }
        if self.0 != Some(&[]) {
            return Ok(found);
        }
        Ok(Some(Found::Other(format!("[{}]", items.join(",")))))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut found, mut members) = (None, Vec::new());
        while let Some(key) = map.next_key::<String>()? {
            let here = |s: &Segment| matches!(s, Segment::Field(name) if *name == key);
            let value = map.next_value_seed(self.step(here))?;
            match (self.0, value) {
                // In order of name, the last member of a name kept.
                (Some([]), Some(value)) => {
                    match members.binary_search_by(|(name, _): &(String, String)| name.cmp(&key)) {
                        Ok(i) => members[i].1 = value.json(),
                        Err(i) => members.insert(i, (key, value.json())),
                    }
                }
                (Some([next, ..]), value) if here(next) => found = value,
                _ => {}
            }
        }
        if self.0 != Some(&[]) {
            return Ok(found);
        }
        let members: Vec<String> = (members.into_iter())
            .map(|(key, value)| Found::String(key).json() + ":" + &value)
            .collect();
        Ok(Some(Found::Object(format!("{{{}}}", members.join(",")))))
    }
}

fn syntax_error(error: &serde_json::Error) -> ConfigErrors {
    ConfigErrors(Vec::from([ConfigError {
        policy: None,
        field: FieldPath::default(),
        value: None,
        problem: Problem::Json(ReadError::of(error)),
    }]))
}

/// Serde's explanation of a document it could not read, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    /// What is wrong, without the position.
    pub message: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in bytes.
    pub column: usize,
}

impl ReadError {
    fn of(error: &serde_json::Error) -> ReadError {
        let (line, column) = (error.line(), error.column());
        let mut message = error.to_string();
        // serde_json appends the position to its message; it is kept apart here.
        let suffix = format!(" at line {line} column {column}");
        if message.ends_with(&suffix) {
            message.truncate(message.len() - suffix.len());
        }
        ReadError {
            message,
            line,
            column,
        }
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (line {}, column {})",
            self.message, self.line, self.column
        )
    }
}

/// The kinds of refusal. Each variant's `Display` is its explanation.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// The document is not JSON.
    Json(ReadError),
    /// The document is JSON, but not of the plugin config's shape: an
    /// unknown or repeated field, a required one left out, a wrong type.
    Shape(ReadError),
    EmptyString,
    NoPolicies,
    EmptyList,
    EmptyMatchList,
    DuplicateName {
        first: usize,
    },
    MaxAgeOutOfRange,
    // Origins.
    AnyOriginNotAlone,
    MissingScheme,
    BadScheme,
    OriginWithUserinfo,
    OriginWithPath,
    OriginWithQuery,
    OriginWithFragment,
    NonAsciiHost,
    BadHost,
    BadPort,
    MisplacedWildcard,
    WildcardCoversTopLevelDomain,
    WildcardCoversAddresses,
    // Credentials.
    CredentialsWithWildcard,
    CredentialsWithNullOrigin,
    CredentialsOverPlainHttp,
    // Methods and headers.
    NotAMethod,
    ForbiddenMethod,
    NotAHeaderName,
    ForbiddenRequestHeader,
    ForbiddenResponseHeader,
    // Scope.
    BadHostPattern,
    BadPath,
    // Version 1.1.
    BadIpv6,
    /// Carries the origin as browsers send it.
    NonCanonicalIpv6 {
        canonical: String,
    },
    TwoWildcardsInLabel,
    /// Carries the public suffix the pattern spans.
    WildcardOverPublicSuffix {
        suffix: String,
    },
    PathWithQueryOrFragment,
    /// Carries the earlier policy's index and the metric name both become.
    MetricNameCollision {
        first: usize,
        metric: String,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Json(position) => write!(f, "not valid JSON: {position}"),
            Problem::Shape(position) => write!(f, "{position}"),
            Problem::EmptyString => f.write_str("must not be empty"),
            Problem::NoPolicies => f.write_str("must list at least one policy"),
            Problem::EmptyList => f.write_str("must not be an empty list"),
            Problem::EmptyMatchList => f.write_str("must not be an empty list: leave the field out to match any"),
            Problem::DuplicateName { first } => write!(f, "the name is already used by policies[{first}]"),
            Problem::MaxAgeOutOfRange => f.write_str("must be a whole number of seconds from 0 to 86400"),
            Problem::AnyOriginNotAlone => f.write_str(r#""*" allows every origin and must be the only entry"#),
            Problem::MissingScheme => f.write_str("an origin is scheme://host[:port]"),
            Problem::BadScheme => f.write_str("the scheme is not valid"),
            Problem::OriginWithUserinfo => f.write_str("an origin has no user name or password"),
            Problem::OriginWithPath => f.write_str(r#"an origin has no path, not even "/""#),
            Problem::OriginWithQuery => f.write_str("an origin has no query"),
            Problem::OriginWithFragment => f.write_str("an origin has no fragment"),
            Problem::NonAsciiHost => f.write_str("the host is not ASCII: write it in punycode (xn--…)"),
            Problem::BadHost => f.write_str("the host is not a valid domain name or IP address"),
            Problem::BadPort => f.write_str("the port must be a number from 1 to 65535, or *"),
            Problem::MisplacedWildcard => f.write_str(
                r#"a wildcard may only be the whole first label ("scheme://*.host"), one "*" inside the first label ("scheme://pr-*.host"), or the port ("scheme://host:*")"#,
            ),
            Problem::WildcardCoversTopLevelDomain => {
                f.write_str("a wildcard may not cover a whole top-level domain")
            }
            Problem::WildcardCoversAddresses => f.write_str("a wildcard may not cover IP addresses"),
            Problem::CredentialsWithWildcard => {
                f.write_str(r#"browsers refuse "*" when allow_credentials is true: list the values"#)
            }
            Problem::CredentialsWithNullOrigin => f.write_str(
                r#"allowing the "null" origin with credentials lets any sandboxed page read them"#,
            ),
            Problem::CredentialsOverPlainHttp => f.write_str(
                "with allow_credentials, an http origin must be loopback (localhost, 127.0.0.0/8, [::1]): anyone on the network can impersonate it",
            ),
            Problem::NotAMethod => f.write_str("is not an HTTP method token"),
            Problem::ForbiddenMethod => f.write_str("is a forbidden method that browsers never send"),
            Problem::NotAHeaderName => f.write_str("is not an HTTP header name"),
            Problem::ForbiddenRequestHeader => {
                f.write_str("is a forbidden request header: browsers never let a script send it")
            }
            Problem::ForbiddenResponseHeader => {
                f.write_str("is a forbidden response header: browsers never expose it")
            }
            Problem::BadHostPattern => f.write_str(r#"a host is "name" or "*.suffix", ASCII, no port"#),
            Problem::BadPath => f.write_str(r#"a path starts with "/" (or is "*"), with at most one "*", at its end"#),
            Problem::BadIpv6 => f.write_str("the host is not a valid IPv6 address"),
            Problem::NonCanonicalIpv6 { canonical } => write!(
                f,
                "browsers send this origin as {canonical} (IPv6 in RFC 5952 form): write it that way, or it never matches"
            ),
            Problem::TwoWildcardsInLabel => f.write_str(r#"a label may hold only one "*""#),
            Problem::WildcardOverPublicSuffix { suffix } => write!(
                f,
                "with allow_credentials, a wildcard may not span sites of different owners: {suffix} is a public suffix (Public Suffix List of {})",
                crate::psl::PSL_SNAPSHOT_DATE
            ),
            Problem::PathWithQueryOrFragment => f.write_str(
                r##"a path has no "?" or "#": match.paths is compared with the path alone, so this entry never matches"##,
            ),
            Problem::MetricNameCollision { first, metric } => write!(
                f,
                "becomes the metric name \"{metric}\", as the name of policies[{first}] does: their counters would merge; rename one"
            ),
        }
    }
}
