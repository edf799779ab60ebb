//! The shared conformance vectors (`tests/vectors/*.json`, described in
//! their README.md), run against the core the way a proxy would run it.
//!
//! Each case is run twice, with a header's repeated lines (the request's,
//! and the upstream's as the engine reads them) joined by "," (as Envoy
//! joins them) and by ", " (as Workers do): both must give the expected
//! answer, so the two adapters agree. Every failing case is
//! listed, by file and name, before the test fails.

use filter_core::{Action, Config, Request};
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};

/// A header line as bytes: (name, value).
type Line = (Vec<u8>, Vec<u8>);

/// What the client sees, reduced to what the vectors pin down.
#[derive(Debug, PartialEq)]
struct Seen {
    forwarded: bool,
    status: u64,
    /// The `access-control-*` and `vary` lines, names lowercase, sorted.
    headers: Vec<Line>,
    outcome: String,
}

fn vector_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors");
    let entries = fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no vector files in {}", dir.display());
    files
}

fn read_json(path: &Path) -> Value {
    let text = fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A vector string as bytes: each character U+0000–U+00FF is one byte.
fn latin1(value: &Value) -> Vec<u8> {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {value}"));
    text.chars()
        .map(|c| u8::try_from(c).unwrap_or_else(|_| panic!("{c:?} is above U+00FF in {text:?}")))
        .collect()
}

/// Bytes shown back in the vectors' own notation.
fn show(bytes: &[u8]) -> String {
    format!(
        "{:?}",
        bytes.iter().map(|&b| char::from(b)).collect::<String>()
    )
}

fn lines(value: Option<&Value>) -> Vec<Line> {
    let Some(value) = value else {
        return Vec::new();
    };
    let pairs = value
        .as_array()
        .unwrap_or_else(|| panic!("not a list of lines: {value}"));
    pairs
        .iter()
        .map(|pair| match pair.as_array().map(Vec::as_slice) {
            Some([name, value]) => (latin1(name), latin1(value)),
            _ => panic!("not a [name, value] pair: {pair}"),
        })
        .collect()
}

/// Header lines with every name's lines joined into one, in order of first
/// appearance, as Envoy and Workers show them to a filter.
fn joined_by_name(lines: &[Line], separator: &[u8]) -> Vec<Line> {
    let mut joined: Vec<Line> = Vec::new();
    for (name, value) in lines {
        match joined
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some((_, values)) => {
                values.extend_from_slice(separator);
                values.extend_from_slice(value);
            }
            None => joined.push((name.clone(), value.clone())),
        }
    }
    joined
}

/// The `access-control-*` and `vary` lines of a response, names lowercased,
/// in a fixed order for comparison.
fn cors_lines(response: impl IntoIterator<Item = Line>) -> Vec<Line> {
    let mut lines: Vec<Line> = response
        .into_iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), value))
        .filter(|(name, _)| name.starts_with(b"access-control-") || name == b"vary")
        .collect();
    lines.sort();
    lines
}

/// Runs one case through the core, a header's repeated lines joined by `separator`.
fn run(config: &Config, case: &Value, separator: &[u8]) -> Seen {
    let request = &case["request"];
    let method = latin1(&request["method"]);
    let authority = latin1(&request["authority"]);
    let path = latin1(&request["path"]);
    let headers = joined_by_name(&lines(request.get("headers")), separator);
    let upstream = lines(case.get("upstream"));
    let value = |name: &str| {
        let line = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()));
        line.map(|(_, v)| v.clone())
    };
    let (origin, acrm, acrh) = (
        value("origin"),
        value("access-control-request-method"),
        value("access-control-request-headers"),
    );
    let (acrpn, site) = (
        value("access-control-request-private-network"),
        value("sec-fetch-site"),
    );

    let untouched = |outcome: &str| Seen {
        forwarded: true,
        status: 200,
        headers: cors_lines(upstream.iter().cloned()),
        outcome: outcome.into(),
    };
    let Some(policy) = config.policy_for(&authority, &path) else {
        return untouched("none");
    };
    let decision = policy.decide(&Request {
        method: &method,
        scheme: b"http",
        authority: &authority,
        origin: origin.as_deref(),
        access_control_request_method: acrm.as_deref(),
        access_control_request_headers: acrh.as_deref(),
        access_control_request_private_network: acrpn.as_deref(),
        sec_fetch_site: site.as_deref(),
    });
    let outcome = decision.outcome.as_str();
    let Some(action) = decision.to_carry_out() else {
        return untouched(outcome);
    };
    match action.clone() {
        Action::Respond { status, headers } => Seen {
            forwarded: false,
            status: status.into(),
            headers: cors_lines(headers.iter().map(|(n, v)| (n.into(), v.into()))),
            outcome: outcome.into(),
        },
        Action::Forward { allow_origin } => {
            // The engine reads the upstream's headers as the proxy shows
            // them: a name's lines joined; the lines left alone go out as sent.
            let shown = joined_by_name(&upstream, separator);
            let edits = policy.edit_response(
                allow_origin,
                shown.iter().map(|(n, v)| (n.as_slice(), v.as_slice())),
            );
            // Remove, then set each header in place of every line of its name.
            let mut response: Vec<Line> = upstream
                .iter()
                .filter(|(name, _)| !edits.remove.iter().any(|r| r.eq_ignore_ascii_case(name)))
                .cloned()
                .collect();
            for (name, value) in edits.set.iter() {
                response.retain(|(n, _)| !n.eq_ignore_ascii_case(name.as_bytes()));
                response.push((name.into(), value.into()));
            }
            Seen {
                forwarded: true,
                status: 200,
                headers: cors_lines(response),
                outcome: outcome.into(),
            }
        }
    }
}

fn expected(case: &Value) -> Seen {
    let expect = &case["expect"];
    Seen {
        forwarded: expect["forwarded"].as_bool().expect("expect.forwarded"),
        status: expect["status"].as_u64().expect("expect.status"),
        headers: cors_lines(lines(expect.get("headers"))),
        outcome: expect["outcome"].as_str().expect("expect.outcome").into(),
    }
}

fn describe(seen: &Seen) -> String {
    let headers: Vec<String> = seen
        .headers
        .iter()
        .map(|(n, v)| format!("{}: {}", show(n), show(v)))
        .collect();
    format!(
        "forwarded {}, status {}, outcome {}, headers [{}]",
        seen.forwarded,
        seen.status,
        seen.outcome,
        headers.join(", ")
    )
}

#[test]
fn topic_vectors() {
    let mut failures = Vec::new();
    let mut count = 0;
    for path in vector_files()
        .iter()
        .filter(|p| !p.ends_with("refused.json"))
    {
        let file = path.file_name().unwrap().to_string_lossy();
        let vectors = read_json(path);
        let json = serde_json::to_vec(&vectors["config"]).unwrap();
        let config = match Config::from_json(&json) {
            Ok(config) => config,
            Err(e) => {
                failures.push(format!("{file}: config refused:\n{e}"));
                continue;
            }
        };
        let cases = vectors["cases"]
            .as_array()
            .unwrap_or_else(|| panic!("{file}: no cases"));
        for case in cases {
            count += 1;
            let name = case["name"].as_str().unwrap_or("(unnamed)");
            let want = expected(case);
            let envoy = run(&config, case, b",");
            let worker = run(&config, case, b", ");
            if envoy != want {
                failures.push(format!(
                    "{file}: {name}\n   got {}\n  want {}",
                    describe(&envoy),
                    describe(&want)
                ));
            } else if worker != want {
                failures.push(format!(
                    "{file}: {name}: right with lines joined by \",\" but not by \", \"\n   got {}\n  want {}",
                    describe(&worker),
                    describe(&want)
                ));
            }
        }
    }
    assert!(count > 0, "no cases in the vector files");
    assert!(
        failures.is_empty(),
        "{} of {count} vector cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn refused_vectors() {
    let path = vector_files()
        .into_iter()
        .find(|p| p.ends_with("refused.json"));
    let path = path.expect("tests/vectors/refused.json");
    let vectors = read_json(&path);
    let entries = vectors["refused"]
        .as_array()
        .expect("refused.json: \"refused\" list");
    assert!(!entries.is_empty(), "refused.json lists nothing");
    let mut failures = Vec::new();
    for entry in entries {
        let name = entry["name"].as_str().unwrap_or("(unnamed)");
        let document = match (entry.get("config"), entry.get("config_text")) {
            (Some(config), None) => serde_json::to_vec(config).unwrap(),
            (None, Some(Value::String(text))) => text.clone().into_bytes(),
            _ => panic!("refused.json: {name}: needs one of config or config_text"),
        };
        let message = match Config::from_json(&document) {
            Ok(_) => {
                failures.push(format!("{name}: accepted"));
                continue;
            }
            Err(errors) => errors.to_string(),
        };
        let wanted = entry["errors"].as_array().expect("errors");
        let missing: Vec<&str> = wanted
            .iter()
            .filter_map(Value::as_str)
            .filter(|s| !message.contains(s))
            .collect();
        if !missing.is_empty() {
            failures.push(format!(
                "{name}: the message does not contain {missing:?}:\n{message}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} refusals failed:\n{}",
        failures.len(),
        entries.len(),
        failures.join("\n\n")
    );
}
