//! The shared conformance vectors in `tests/vectors/` (format:
//! `tests/vectors/README.md`), as one serde-derived type that every runner
//! reads: filter-core's own tests, and the end-to-end runners through real
//! Envoy and real workerd.
//!
//! Strings in the files follow a Latin-1 convention: each character
//! U+0000–U+00FF is one byte. They become bytes here, while parsing, so a
//! runner never sees the convention.

use serde::de::{self, Deserializer};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// One header line: name and value, as bytes.
pub type Header = (Vec<u8>, Vec<u8>);

/// A topic file: one config and the cases run against it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VectorFile {
    /// The file name, for failure messages (`origins.json`).
    #[serde(skip)]
    pub file: String,
    /// What the file covers.
    #[serde(default)]
    pub description: String,
    /// The plugin JSON document, as text.
    #[serde(deserialize_with = "json_text")]
    pub config: String,
    /// The cases, in file order.
    pub cases: Vec<Case>,
}

/// One request and what must come of it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// Unique within the file.
    pub name: String,
    /// What the client sends.
    pub request: Request,
    /// Header lines the upstream answers with, if it is reached.
    #[serde(default, deserialize_with = "header_lines")]
    pub upstream: Vec<Header>,
    /// What the client must see.
    pub expect: Expect,
}

/// A plain-http request, sent with `Host: <authority>` and then `headers`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// The method, as sent.
    #[serde(deserialize_with = "latin1_bytes")]
    pub method: Vec<u8>,
    /// The `Host` header.
    #[serde(deserialize_with = "latin1_bytes")]
    pub authority: Vec<u8>,
    /// The request target, query included.
    #[serde(deserialize_with = "latin1_bytes")]
    pub path: Vec<u8>,
    /// Header lines after `Host`, in order; a repeated name is several lines.
    #[serde(default, deserialize_with = "header_lines")]
    pub headers: Vec<Header>,
}

/// The observable result of a case.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// Whether the upstream saw the request.
    pub forwarded: bool,
    /// The status the client sees.
    pub status: u16,
    /// The exact set of `access-control-*` and `vary` response headers:
    /// names lowercase, values byte-exact.
    #[serde(default, deserialize_with = "header_lines")]
    pub headers: Vec<Header>,
    /// The decision counted, or `None` when no policy applies (`"none"`).
    #[serde(deserialize_with = "outcome")]
    pub outcome: Option<String>,
}

/// A config that every adapter must refuse.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RefusedEntry")]
pub struct Refused {
    /// What is wrong with it.
    pub name: String,
    /// The plugin configuration text, which may not even be JSON.
    pub config: String,
    /// Substrings the refusal message must contain.
    pub errors: Vec<String>,
}

/// A `refused.json` entry as written: the document as JSON (`config`), or as
/// text when it is not valid JSON (`config_text`), never both.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RefusedEntry {
    name: String,
    config: Option<serde_json::Value>,
    config_text: Option<String>,
    errors: Vec<String>,
}

impl TryFrom<RefusedEntry> for Refused {
    type Error = String;

    fn try_from(entry: RefusedEntry) -> Result<Refused, String> {
        let config = match (entry.config, entry.config_text) {
            (Some(config), None) => config.to_string(),
            (None, Some(text)) => text,
            _ => {
                return Err(format!(
                    "{:?}: needs one of config or config_text",
                    entry.name
                ))
            }
        };
        Ok(Refused {
            name: entry.name,
            config,
            errors: entry.errors,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RefusedFile {
    refused: Vec<Refused>,
}

/// `tests/vectors/`.
pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors")
}

/// Every topic file in `dir` (every `*.json` but `refused.json`), sorted by name.
///
/// # Errors
/// A file that cannot be read or does not follow the format, named.
pub fn load_topics(dir: &Path) -> Result<Vec<VectorFile>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| {
            path.extension().is_some_and(|ext| ext == "json")
                && path.file_name().is_some_and(|name| name != "refused.json")
        })
        .collect();
    paths.sort();
    paths.iter().map(|path| load_topic(path)).collect()
}

/// One topic file.
///
/// # Errors
/// The file cannot be read or does not follow the format.
pub fn load_topic(path: &Path) -> Result<VectorFile, String> {
    let mut file: VectorFile = read_json(path)?;
    file.file = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(file)
}

/// `refused.json` in `dir`.
///
/// # Errors
/// The file cannot be read or does not follow the format.
pub fn load_refused(dir: &Path) -> Result<Vec<Refused>, String> {
    read_json::<RefusedFile>(&dir.join("refused.json")).map(|file| file.refused)
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, String> {
    let text = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_slice(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The bytes a Latin-1-convention string stands for.
///
/// # Errors
/// A character above U+00FF, which the convention does not allow.
pub fn latin1(text: &str) -> Result<Vec<u8>, String> {
    text.chars()
        .map(|c| u8::try_from(c).map_err(|_| format!("{text:?}: {c:?} is above U+00FF")))
        .collect()
}

/// Shows bytes in the Latin-1 convention, escaping controls, for messages.
pub fn show(bytes: &[u8]) -> String {
    let text: String = bytes.iter().map(|&b| char::from(b)).collect();
    format!("{text:?}")
}

/// The response headers the vectors pin down (`access-control-*` and
/// `vary`), names lowercased, sorted so that order does not matter.
pub fn cors_headers(headers: &[Header]) -> Vec<Header> {
    let mut cors: Vec<Header> = headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), value.clone()))
        .filter(|(name, _)| name.starts_with(b"access-control-") || name == b"vary")
        .collect();
    cors.sort();
    cors
}

/// What a runner observed for one case.
#[derive(Debug, Clone)]
pub struct Observed<'a> {
    /// Whether the upstream saw the request.
    pub forwarded: bool,
    /// The response status.
    pub status: u16,
    /// Every response header line.
    pub headers: &'a [Header],
}

impl Expect {
    /// Every way `observed` differs from what is expected, empty when none.
    pub fn mismatches(&self, observed: &Observed<'_>) -> Vec<String> {
        let mut problems = Vec::new();
        if observed.forwarded != self.forwarded {
            problems.push(format!(
                "forwarded: expected {}, got {}",
                self.forwarded, observed.forwarded
            ));
        }
        if observed.status != self.status {
            problems.push(format!(
                "status: expected {}, got {}",
                self.status, observed.status
            ));
        }
        let expected = cors_headers(&self.headers);
        let got = cors_headers(observed.headers);
        if got != expected {
            let list = |headers: &[Header]| {
                headers
                    .iter()
                    .map(|(n, v)| format!("{}: {}", show(n), show(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            problems.push(format!(
                "headers: expected [{}], got [{}]",
                list(&expected),
                list(&got)
            ));
        }
        problems
    }
}

fn latin1_bytes<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
    let text = String::deserialize(deserializer)?;
    latin1(&text).map_err(de::Error::custom)
}

/// `[[name, value], ...]`.
fn header_lines<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Header>, D::Error> {
    let pairs = Vec::<(String, String)>::deserialize(deserializer)?;
    pairs
        .iter()
        .map(|(name, value)| Ok((latin1(name)?, latin1(value)?)))
        .collect::<Result<_, String>>()
        .map_err(de::Error::custom)
}

fn outcome<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    let outcome = String::deserialize(deserializer)?;
    Ok((outcome != "none").then_some(outcome))
}

/// The document as JSON text, as the proxy's configuration carries it.
fn json_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    serde_json::Value::deserialize(deserializer).map(|value| value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_loads_with_cases_and_refusals() {
        let topics = load_topics(&dir()).unwrap();
        assert!(!topics.is_empty());
        assert!(topics
            .iter()
            .all(|t| !t.cases.is_empty() && !t.file.is_empty()));
        assert!(!load_refused(&dir()).unwrap().is_empty());
    }

    #[test]
    fn latin1_strings_become_bytes() {
        let case: Case = serde_json::from_str(
            r#"{"name": "n", "request": {"method": "GET", "authority": "h", "path": "/\u00ff",
                "headers": [["Origin", "\u00c3\u00a9"]]},
                "expect": {"forwarded": true, "status": 200, "outcome": "none"}}"#,
        )
        .unwrap();
        assert_eq!(case.request.path, b"/\xff");
        assert_eq!(
            case.request.headers,
            [(b"Origin".to_vec(), b"\xc3\xa9".to_vec())]
        );
        assert_eq!(case.expect.outcome, None);
        assert!(latin1("\u{100}").is_err());
    }

    #[test]
    fn refused_needs_exactly_one_document() {
        let parse = |text: &str| serde_json::from_str::<Refused>(text);
        assert_eq!(
            parse(r#"{"name": "n", "config_text": "{x", "errors": []}"#)
                .unwrap()
                .config,
            "{x"
        );
        assert!(parse(r#"{"name": "n", "errors": []}"#).is_err());
        assert!(parse(r#"{"name": "n", "config": {}, "config_text": "", "errors": []}"#).is_err());
    }
}
