//! The plugin JSON as typed values: what a user writes, field for field.
//!
//! This is the one model of a config that every tool reads: the adapters
//! compile it into a [`Config`](crate::Config), the operator CLI shows,
//! imports and explains it. Serde refuses what does not fit the shape (wrong
//! types, unknown fields, a field written twice); the rules between fields
//! (valid origins, credentials with `*`, ...) are checked when it is compiled,
//! so that every such problem is reported at once.
//!
//! A field that may be left out is an `Option` where leaving it out means
//! something other than any value it could hold: `match.hosts` left out
//! matches any host, while `[]` is refused.

use crate::error::{self, ConfigErrors};
use alloc::string::String;
#[cfg(feature = "schema")]
use alloc::string::ToString;
use alloc::vec::Vec;
use core::fmt;
use core::marker::PhantomData;
use serde::de::value::MapAccessDeserializer;
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Number;

/// The shapes the JSON Schema gives values; the engine checks more (see
/// `Config::compile`). An origin: `*`, `null`, `scheme://host[:port]`, with
/// `*.` and two labels or more, or one `*` inside the first label; a port
/// or `:*`.
#[cfg(feature = "schema")]
const ORIGIN: &str = r"^(\*|null|[A-Za-z][A-Za-z0-9+.-]*://(\*(\.[A-Za-z0-9_-]+){2,}|([A-Za-z0-9_-]+\*[A-Za-z0-9_-]*|\*[A-Za-z0-9_-]+)(\.[A-Za-z0-9_-]+)+|[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*|\[[0-9A-Fa-f:.]+\])(:([0-9]{1,5}|\*))?)$";
/// An HTTP token (method or header name), or `*`.
#[cfg(feature = "schema")]
const TOKEN: &str = r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";
/// Methods the Fetch Standard forbids.
#[cfg(feature = "schema")]
const FORBIDDEN_METHOD: &str = r"^([Cc][Oo][Nn][Nn][Ee][Cc][Tt]|[Tt][Rr][Aa][Cc][EeKk])$";
/// A host of `match.hosts`: exact, `*.suffix` or a bracketed IPv6 address; no port.
#[cfg(feature = "schema")]
const HOST: &str = r"^((\*\.)?[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*|\[[0-9A-Fa-f:.]+\])$";
/// A path of `match.paths`: exact, or a prefix ending in `*`; `*` alone is every path.
#[cfg(feature = "schema")]
const PATH: &str = r"^(\*|/[^*?#]*\*?)$";

/// A whole plugin configuration: the policies, tried in order.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a plugin config object")]
pub struct PluginConfig {
    /// `"$schema"`: where editors find the JSON Schema. Accepted and ignored.
    #[serde(
        rename = "$schema",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub schema: Option<String>,
    /// `enforce` (the default) or `shadow`.
    #[serde(default, deserialize_with = "word")]
    pub mode: Mode,
    /// The policies; the first whose `match` fits a request applies.
    #[cfg_attr(feature = "schema", schemars(length(min = 1)))]
    #[serde(deserialize_with = "objects")]
    pub policies: Vec<PolicyConfig>,
}

impl PluginConfig {
    /// Reads a plugin JSON document: one JSON object, nothing after it, no
    /// field written twice, nested no deeper than serde_json's limit.
    ///
    /// # Errors
    /// The first place where the document is not JSON or does not fit the
    /// model, with its line, column, policy, field and value.
    pub fn from_json(json: &[u8]) -> Result<PluginConfig, ConfigErrors> {
        error::read(json).map(|Object(config)| config)
    }
}

/// Whether decisions change the traffic.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Answer preflights and edit responses as the policies say.
    #[default]
    Enforce,
    /// Decide, count and log, but change nothing on the wire.
    Shadow,
}

/// One policy: which requests it covers and what it allows them.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", schemars(extend(
    "if" = {"required": ["allow_credentials"], "properties": {"allow_credentials": {"const": true}}},
    "then" = {"properties": {
        "allow_origins": {"items": {"not": {"enum": ["*", "null"]}}},
        "allow_methods": {"items": {"not": {"const": "*"}}},
        "allow_headers": {"items": {"not": {"const": "*"}}},
        "expose_headers": {"items": {"not": {"const": "*"}}}
    }}
)))]
#[serde(deny_unknown_fields, expecting = "a policy object")]
pub struct PolicyConfig {
    /// Unique among the policies; names it in logs and metrics.
    #[cfg_attr(feature = "schema", schemars(length(min = 1)))]
    pub name: String,
    /// Which requests the policy applies to; the default matches any.
    #[serde(default, deserialize_with = "object")]
    pub r#match: Match,
    /// Origins that may read responses: `*`, `null`, origins and patterns.
    #[cfg_attr(feature = "schema", schemars(length(min = 1), inner(regex(pattern = ORIGIN)), extend("if" = {"contains": {"const": "*"}}, "then" = {"maxItems": 1})))]
    pub allow_origins: Vec<String>,
    /// Methods a preflight may ask for; left out, `GET`, `HEAD` and `POST`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[cfg_attr(feature = "schema", schemars(with = "Vec<String>", length(min = 1), inner(regex(pattern = TOKEN)), extend("not" = {"contains": {"pattern": FORBIDDEN_METHOD}})))]
    pub allow_methods: Option<Vec<String>>,
    /// Request header names a preflight may ask for, or `*`.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(inner(regex(pattern = TOKEN))))]
    pub allow_headers: Vec<String>,
    /// Response header names a script may read, or `*`.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(inner(regex(pattern = TOKEN))))]
    pub expose_headers: Vec<String>,
    /// Send `Access-Control-Allow-Credentials: true`.
    #[serde(default)]
    pub allow_credentials: bool,
    /// Seconds a browser may keep a preflight answer, 0 to 86400. A number
    /// as written, so that `600.0` (Istio passes every number as a float)
    /// and out-of-range values reach the checks that explain them.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[cfg_attr(feature = "schema", schemars(with = "u32", range(max = 86400)))]
    pub max_age: Option<Number>,
    /// Answer Private Network Access preflights.
    #[serde(default)]
    pub allow_private_network: bool,
    /// What to do with an actual request from an origin that is not allowed.
    #[serde(default, deserialize_with = "word")]
    pub disallowed: Disallowed,
}

/// The requests a policy applies to. A field left out matches anything.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a match object")]
pub struct Match {
    /// Hosts, exact or `*.suffix`, without port.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[cfg_attr(feature = "schema", schemars(with = "Vec<String>", length(min = 1), inner(regex(pattern = HOST))))]
    pub hosts: Option<Vec<String>>,
    /// Paths, exact or a prefix ending in `*`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[cfg_attr(feature = "schema", schemars(with = "Vec<String>", length(min = 1), inner(regex(pattern = PATH))))]
    pub paths: Option<Vec<String>>,
    /// Compare paths ASCII-case-insensitively.
    #[serde(default)]
    pub ignore_case: bool,
}

/// What happens to an actual request from an origin that is not allowed.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Disallowed {
    /// Forward it; the response comes back without CORS headers.
    #[default]
    Pass,
    /// Answer `403` at the edge.
    Reject,
}

/// A `mode` or `disallowed` word, read as a string first: serde_json reads
/// an enum from a string or an object and says only "expected value" for any
/// other value, and names no choice for an unknown word.
fn word<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<String, Error = &'static str>,
{
    T::try_from(String::deserialize(deserializer)?).map_err(serde::de::Error::custom)
}

impl TryFrom<String> for Mode {
    type Error = &'static str;

    fn try_from(word: String) -> Result<Mode, &'static str> {
        match word.as_str() {
            "enforce" => Ok(Mode::Enforce),
            "shadow" => Ok(Mode::Shadow),
            _ => Err(r#"must be "enforce" or "shadow""#),
        }
    }
}

impl TryFrom<String> for Disallowed {
    type Error = &'static str;

    fn try_from(word: String) -> Result<Disallowed, &'static str> {
        match word.as_str() {
            "pass" => Ok(Disallowed::Pass),
            "reject" => Ok(Disallowed::Reject),
            _ => Err(r#"must be "pass" or "reject""#),
        }
    }
}

/// A struct read from a JSON object only. Serde's derived `Deserialize`
/// also reads a struct from a list of its field values in order, which would
/// let `"match": [["a.example.com"]]` mean `{"hosts": ["a.example.com"]}`.
fn object<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    deserializer.deserialize_map(ObjectVisitor(PhantomData))
}

fn objects<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    let objects = Vec::<Object<T>>::deserialize(deserializer)?;
    Ok(objects.into_iter().map(|Object(t)| t).collect())
}

/// A list element read with [`object`].
struct Object<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        object(deserializer).map(Object)
    }
}

struct ObjectVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::deserialize(MapAccessDeserializer::new(map))
    }
}

/// An optional field that, when written, must hold a value: `null` is not a
/// way to leave a field out, as it is for serde's `Option` by default.
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_null_and_empty_are_told_apart() {
        let config: PluginConfig = serde_json::from_str(
            r#"{"$schema": "x", "policies": [{"name": "api", "allow_origins": ["*"],
                "match": {"paths": []}, "max_age": 600.0}]}"#,
        )
        .unwrap();
        let policy = &config.policies[0];
        assert_eq!(config.mode, Mode::Enforce);
        assert_eq!(policy.allow_methods, None);
        assert_eq!(policy.r#match.hosts, None);
        assert_eq!(policy.r#match.paths, Some(Vec::new()));
        assert_eq!(
            policy.max_age.as_ref().and_then(Number::as_f64),
            Some(600.0)
        );
        assert_eq!(policy.disallowed, Disallowed::Pass);

        let null =
            r#"{"policies": [{"name": "api", "allow_origins": ["*"], "allow_methods": null}]}"#;
        assert!(serde_json::from_str::<PluginConfig>(null).is_err());
    }

    #[test]
    fn unknown_and_repeated_fields_are_refused() {
        for bad in [
            r#"{"policies": [], "modes": "enforce"}"#,
            r#"{"policies": [{"name": "a", "allow_origins": ["*"], "match": {"host": []}}]}"#,
            r#"{"policies": [{"name": "a", "name": "b", "allow_origins": ["*"]}]}"#,
            r#"{"mode": "Enforce", "policies": []}"#,
            r#"{"policies": [["a", [["a.example.com"]], ["*"]]]}"#,
            r#"{"policies": [{"name": "a", "allow_origins": ["*"], "match": [["a.example.com"]]}]}"#,
            r#"[null, "enforce", []]"#,
        ] {
            assert!(PluginConfig::from_json(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}
