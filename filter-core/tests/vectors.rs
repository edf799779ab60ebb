//! The shared conformance vectors (`tests/vectors/*.json`, described in
//! their README.md, read through the `cors-vectors` crate as every runner
//! reads them), run against the core the way a proxy would run it.
//!
//! Each case is run twice, with a header's repeated lines (the request's,
//! and the upstream's as the engine reads them) joined by "," (as Envoy
//! joins them) and by ", " (as Workers do): both must give the expected
//! answer, so the two adapters agree. Every failing case is
//! listed, by file and name, before the test fails.

use cors_vectors::{cors_headers, show, Case, Expect, Header};
use filter_core::{Action, Config, Request};

/// What the client sees, reduced to what the vectors pin down.
#[derive(Debug, PartialEq)]
struct Seen {
    forwarded: bool,
    status: u16,
    /// The `access-control-*` and `vary` lines, names lowercase, sorted.
    headers: Vec<Header>,
    outcome: Option<String>,
}

/// Header lines with every name's lines joined into one, in order of first
/// appearance, as Envoy and Workers show them to a filter.
fn joined_by_name(lines: &[Header], separator: &[u8]) -> Vec<Header> {
    let mut joined: Vec<Header> = Vec::new();
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

/// Runs one case through the core, a header's repeated lines joined by `separator`.
fn run(config: &Config, case: &Case, separator: &[u8]) -> Seen {
    let request = &case.request;
    let headers = joined_by_name(&request.headers, separator);
    let upstream = &case.upstream;
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

    let untouched = |outcome: Option<&str>| Seen {
        forwarded: true,
        status: 200,
        headers: cors_headers(upstream),
        outcome: outcome.map(String::from),
    };
    let Some(policy) = config.policy_for(&request.authority, &request.path) else {
        return untouched(None);
    };
    let decision = policy.decide(&Request {
        method: &request.method,
        scheme: b"http",
        authority: &request.authority,
        origin: origin.as_deref(),
        access_control_request_method: acrm.as_deref(),
        access_control_request_headers: acrh.as_deref(),
        access_control_request_private_network: acrpn.as_deref(),
        sec_fetch_site: site.as_deref(),
    });
    let outcome = decision.outcome.as_str();
    let Some(action) = decision.to_carry_out() else {
        return untouched(Some(outcome));
    };
    match action.clone() {
        Action::Respond { status, headers } => Seen {
            forwarded: false,
            status,
            headers: cors_headers(
                &headers
                    .iter()
                    .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
                    .collect::<Vec<_>>(),
            ),
            outcome: Some(outcome.into()),
        },
        Action::Forward { allow_origin } => {
            // The engine reads the upstream's headers as the proxy shows
            // them: a name's lines joined; the lines left alone go out as sent.
            let shown = joined_by_name(upstream, separator);
            let edits = policy.edit_response(
                allow_origin,
                shown.iter().map(|(n, v)| (n.as_slice(), v.as_slice())),
            );
            // Remove, then set each header in place of every line of its name.
            let mut response: Vec<Header> = upstream
                .iter()
                .filter(|(name, _)| !edits.remove.iter().any(|r| r.eq_ignore_ascii_case(name)))
                .cloned()
                .collect();
            for (name, value) in edits.set.iter() {
                response.retain(|(n, _)| !n.eq_ignore_ascii_case(name.as_bytes()));
                response.push((name.as_bytes().to_vec(), value.as_bytes().to_vec()));
            }
            Seen {
                forwarded: true,
                status: 200,
                headers: cors_headers(&response),
                outcome: Some(outcome.into()),
            }
        }
    }
}

fn expected(expect: &Expect) -> Seen {
    Seen {
        forwarded: expect.forwarded,
        status: expect.status,
        headers: cors_headers(&expect.headers),
        outcome: expect.outcome.clone(),
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
        seen.outcome.as_deref().unwrap_or("none"),
        headers.join(", ")
    )
}

#[test]
fn topic_vectors() {
    let files = cors_vectors::load_topics(&cors_vectors::dir()).unwrap_or_else(|e| panic!("{e}"));
    let mut failures = Vec::new();
    let mut count = 0;
    for file in &files {
        let config = match Config::from_json(file.config.as_bytes()) {
            Ok(config) => config,
            Err(e) => {
                failures.push(format!("{}: config refused:\n{e}", file.file));
                continue;
            }
        };
        for case in &file.cases {
            count += 1;
            let want = expected(&case.expect);
            let envoy = run(&config, case, b",");
            let worker = run(&config, case, b", ");
            if envoy != want {
                failures.push(format!(
                    "{}: {}\n   got {}\n  want {}",
                    file.file,
                    case.name,
                    describe(&envoy),
                    describe(&want)
                ));
            } else if worker != want {
                failures.push(format!(
                    "{}: {}: right with lines joined by \",\" but not by \", \"\n   got {}\n  want {}",
                    file.file,
                    case.name,
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
    let entries =
        cors_vectors::load_refused(&cors_vectors::dir()).unwrap_or_else(|e| panic!("{e}"));
    assert!(!entries.is_empty(), "refused.json lists nothing");
    let mut failures = Vec::new();
    for entry in &entries {
        let message = match Config::from_json(entry.config.as_bytes()) {
            Ok(_) => {
                failures.push(format!("{}: accepted", entry.name));
                continue;
            }
            Err(errors) => errors.to_string(),
        };
        let missing: Vec<&String> = entry
            .errors
            .iter()
            .filter(|s| !message.contains(s.as_str()))
            .collect();
        if !missing.is_empty() {
            failures.push(format!(
                "{}: the message does not contain {missing:?}:\n{message}",
                entry.name
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
