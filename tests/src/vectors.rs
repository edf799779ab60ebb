//! The shared vectors in `tests/vectors/` (format: `tests/vectors/README.md`).
//!
//! Strings in the files follow a Latin-1 convention: each character
//! U+0000–U+00FF is one byte. They are turned into bytes here, once, so a
//! runner never sees the convention.

use serde_json::Value;
use std::path::{Path, PathBuf};

/// One header line: name and value, as bytes.
pub type Header = (Vec<u8>, Vec<u8>);

/// A topic file: one config and the cases run against it.
#[derive(Debug, Clone)]
pub struct VectorFile {
    /// The file name, for failure messages (`origins.json`).
    pub file: String,
    /// What the file covers.
    pub description: String,
    /// The plugin JSON document, as text.
    pub config: String,
    /// The cases, in file order.
    pub cases: Vec<Case>,
}

/// One request and what must come of it.
#[derive(Debug, Clone)]
pub struct Case {
    /// Unique within the file.
    pub name: String,
    /// What the client sends.
    pub request: Request,
    /// Header lines the upstream answers with, if it is reached.
    pub upstream: Vec<Header>,
    /// What the client must see.
    pub expect: Expect,
}

/// A plain-http request, sent with `Host: <authority>` and then `headers`.
#[derive(Debug, Clone)]
pub struct Request {
    /// The method, as sent.
    pub method: Vec<u8>,
    /// The `Host` header.
    pub authority: Vec<u8>,
    /// The request target, query included.
    pub path: Vec<u8>,
    /// Header lines after `Host`, in order; a repeated name is several lines.
    pub headers: Vec<Header>,
}

/// The observable result of a case.
#[derive(Debug, Clone)]
pub struct Expect {
    /// Whether the upstream saw the request.
    pub forwarded: bool,
    /// The status the client sees.
    pub status: u16,
    /// The exact set of `access-control-*` and `vary` response headers:
    /// names lowercase, values byte-exact.
    pub headers: Vec<Header>,
    /// The decision counted, or `None` when no policy applies (`"none"`).
    pub outcome: Option<String>,
}

/// A config that every adapter must refuse.
#[derive(Debug, Clone)]
pub struct Refused {
    /// What is wrong with it.
    pub name: String,
    /// The plugin configuration text, which may not even be JSON.
    pub config: String,
    /// Substrings the refusal message must contain.
    pub errors: Vec<String>,
}

/// `tests/vectors/`.
pub fn dir() -> PathBuf {
    crate::workspace_root().join("tests/vectors")
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
    let file = file_name(path);
    let document = read_json(path)?;
    let at = |what: &str| format!("{file}: {what}");
    let cases = document
        .get("cases")
        .and_then(Value::as_array)
        .ok_or_else(|| at("no \"cases\" list"))?
        .iter()
        .enumerate()
        .map(|(i, case)| parse_case(case).map_err(|e| at(&format!("cases[{i}]: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(VectorFile {
        description: str_field(&document, "description")
            .unwrap_or_default()
            .to_string(),
        config: document
            .get("config")
            .map(Value::to_string)
            .ok_or_else(|| at("no \"config\""))?,
        cases,
        file,
    })
}

/// `refused.json` in `dir`.
///
/// # Errors
/// The file cannot be read or does not follow the format.
pub fn load_refused(dir: &Path) -> Result<Vec<Refused>, String> {
    let path = dir.join("refused.json");
    let document = read_json(&path)?;
    let list = document
        .get("refused")
        .and_then(Value::as_array)
        .ok_or("refused.json: no \"refused\" list")?;
    list.iter()
        .enumerate()
        .map(|(i, item)| {
            let name = str_field(item, "name").ok_or(format!("refused[{i}]: no name"))?;
            let config = match (item.get("config"), str_field(item, "config_text")) {
                (Some(config), None) => config.to_string(),
                (None, Some(text)) => text.to_string(),
                _ => {
                    return Err(format!(
                        "refused[{i}] {name:?}: needs config or config_text"
                    ))
                }
            };
            let errors = item
                .get("errors")
                .and_then(Value::as_array)
                .ok_or(format!("refused[{i}] {name:?}: no errors list"))?
                .iter()
                .map(|e| e.as_str().map(String::from))
                .collect::<Option<Vec<_>>>()
                .ok_or(format!("refused[{i}] {name:?}: errors must be strings"))?;
            Ok(Refused {
                name: name.to_string(),
                config,
                errors,
            })
        })
        .collect()
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn read_json(path: &Path) -> Result<Value, String> {
    let text = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_slice(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn str_field<'v>(value: &'v Value, field: &str) -> Option<&'v str> {
    value.get(field).and_then(Value::as_str)
}

fn parse_case(case: &Value) -> Result<Case, String> {
    let name = str_field(case, "name").ok_or("no name")?.to_string();
    let with_name = |e: String| format!("{name:?}: {e}");
    let request = case
        .get("request")
        .ok_or("no request")
        .map_err(|e| with_name(e.into()))?;
    let expect = case
        .get("expect")
        .ok_or("no expect")
        .map_err(|e| with_name(e.into()))?;
    let bytes = |value: &Value, field: &str| -> Result<Vec<u8>, String> {
        latin1(str_field(value, field).ok_or(format!("no {field}"))?)
    };
    let request = Request {
        method: bytes(request, "method").map_err(with_name)?,
        authority: bytes(request, "authority").map_err(with_name)?,
        path: bytes(request, "path").map_err(with_name)?,
        headers: header_list(request.get("headers")).map_err(with_name)?,
    };
    let outcome =
        str_field(expect, "outcome").ok_or_else(|| with_name("no expect.outcome".into()))?;
    let expect = Expect {
        forwarded: expect
            .get("forwarded")
            .and_then(Value::as_bool)
            .ok_or_else(|| with_name("no expect.forwarded".into()))?,
        status: expect
            .get("status")
            .and_then(Value::as_u64)
            .and_then(|s| u16::try_from(s).ok())
            .ok_or_else(|| with_name("no expect.status".into()))?,
        headers: header_list(expect.get("headers")).map_err(with_name)?,
        outcome: (outcome != "none").then(|| outcome.to_string()),
    };
    Ok(Case {
        upstream: header_list(case.get("upstream")).map_err(with_name)?,
        name,
        request,
        expect,
    })
}

/// `[[name, value], ...]`, absent meaning empty.
fn header_list(value: Option<&Value>) -> Result<Vec<Header>, String> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let list = value.as_array().ok_or("headers must be a list")?;
    list.iter()
        .map(|pair| match pair.as_array().map(Vec::as_slice) {
            Some([Value::String(name), Value::String(value)]) => {
                Ok((latin1(name)?, latin1(value)?))
            }
            _ => Err(format!("header {pair} must be [name, value]")),
        })
        .collect()
}

/// The bytes a Latin-1-convention string stands for.
///
/// # Errors
/// A character above U+00FF, which the convention does not allow.
pub fn latin1(text: &str) -> Result<Vec<u8>, String> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).map_err(|_| format!("{text:?}: {c:?} is above U+00FF")))
        .collect()
}

/// Shows bytes in the Latin-1 convention, escaping controls, for messages.
pub fn show(bytes: &[u8]) -> String {
    let text: String = bytes.iter().map(|&b| char::from(b)).collect();
    format!("{text:?}")
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
        let mut expected = self.headers.clone();
        expected.sort();
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

/// Header lines from text, in the order given: what an upstream is told to
/// send, or (through [`cors_headers`]) what a client must see.
pub fn lines(list: &[(&str, &str)]) -> Vec<Header> {
    list.iter()
        .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
        .collect()
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

/// How many cases expect each outcome (`None` excluded), for comparing
/// with a runner's counters.
pub fn outcome_counts(cases: &[Case]) -> std::collections::BTreeMap<String, u64> {
    let mut counts = std::collections::BTreeMap::new();
    for outcome in cases.iter().filter_map(|c| c.expect.outcome.as_ref()) {
        *counts.entry(outcome.clone()).or_insert(0) += 1;
    }
    counts
}
