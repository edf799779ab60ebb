//! Every refusal of docs/configuration.md and docs/behaviour.md: the `Problem`, and a
//! message that names the policy, the field and the value as written. Also
//! the configs just inside each rule, which must be accepted, and documents
//! with many problems, which must all be reported.

mod common;

use common::table;
use filter_core::{Config, ConfigError, Problem, ReadError, Segment};

/// A document with one policy "api": these `allow_origins` entries, then
/// these other fields.
fn api(origins: &str, fields: &str) -> String {
    let fields = if fields.is_empty() {
        String::new()
    } else {
        format!(", {fields}")
    };
    format!(r#"{{"policies": [{{"name": "api", "allow_origins": [{origins}]{fields}}}]}}"#)
}

/// The same with one allowed origin, for rows about the other fields.
fn api_with(fields: &str) -> String {
    api(r#""https://app.example.com""#, fields)
}

fn refusals(json: &str) -> Result<Vec<ConfigError>, String> {
    match Config::from_json(json.as_bytes()) {
        Ok(_) => Err("accepted".into()),
        Err(errors) => Ok(errors.iter().cloned().collect()),
    }
}

/// A refusal: the problem, and where: the policy as the message names it
/// (`policy "api"`, `policies[0]`, none for the document), the field path,
/// and the value as written in the JSON.
struct Refusal<'a> {
    problem: Problem,
    policy: Option<&'a str>,
    field: &'a str,
    value: Option<&'a str>,
}

const API: Option<&str> = Some(r#"policy "api""#);

fn refusal<'a>(problem: Problem, field: &'a str, value: Option<&'a str>) -> Refusal<'a> {
    Refusal {
        problem,
        policy: API,
        field,
        value,
    }
}

/// A document that is JSON but does not fit the model: serde's explanation
/// contains `message`.
fn shape(message: &str) -> Problem {
    Problem::Shape(ReadError {
        message: message.into(),
        line: 0,
        column: 0,
    })
}

/// A document that is not JSON; the text is the parser's.
fn json() -> Problem {
    Problem::Json(ReadError {
        message: String::new(),
        line: 0,
        column: 0,
    })
}

/// The problems are equal; for a document serde could not read, the
/// explanation contains the one wanted and the position is a real one.
fn same_problem(got: &Problem, want: &Problem) -> bool {
    match (got, want) {
        (Problem::Json(got), Problem::Json(want)) | (Problem::Shape(got), Problem::Shape(want)) => {
            got.message.contains(&want.message) && got.line > 0
        }
        _ => got == want,
    }
}

/// Checks one reported error against what a row expects, both through the
/// accessors and in the one line a user reads.
fn matches(error: &ConfigError, want: &Refusal) -> Result<(), String> {
    let line = error.to_string();
    let mismatch = |what: &str| Err(format!("{what} differs in {error:?}\n  message: {line}"));
    if !same_problem(error.problem(), &want.problem) {
        return mismatch(&format!("problem (want {:?})", want.problem));
    }
    let policy = error.policy().map(ToString::to_string);
    let field = error.field().to_string();
    if (policy.as_deref(), field.as_str(), error.value()) != (want.policy, want.field, want.value) {
        return mismatch("where");
    }
    for part in [want.policy, Some(want.field), want.value]
        .into_iter()
        .flatten()
    {
        if !line.contains(part) {
            return Err(format!("message {line:?} does not name {part:?}"));
        }
    }
    let explanation = match &want.problem {
        Problem::Json(p) | Problem::Shape(p) => p.message.clone(),
        problem => problem.to_string(),
    };
    if !line.contains(&explanation) {
        return Err(format!("message {line:?} does not explain the problem"));
    }
    Ok(())
}

fn check_refusals(rows: &[(&str, (String, Refusal))]) {
    table(rows, |(json, want)| {
        let errors = refusals(json)?;
        match errors.as_slice() {
            [error] => matches(error, want),
            _ => Err(format!("want one error, got {}: {errors:#?}", errors.len())),
        }
    });
}

#[test]
fn document_refusals() {
    use Problem::*;
    let policy = r#"{"name": "api", "allow_origins": ["*"]}"#;
    #[rustfmt::skip]
    let rows = [
        ("not JSON",
            ("{\"policies\": [".to_string(), Refusal { problem: json(), policy: None, field: "", value: None })),
        ("trailing garbage",
            (format!(r#"{{"policies": [{policy}]}} x"#), Refusal { problem: json(), policy: None, field: "", value: None })),
        ("a byte-order mark",
            (format!("\u{feff}{{\"policies\": [{policy}]}}"), Refusal { problem: json(), policy: None, field: "", value: None })),
        ("nesting far deeper than a config",
            (format!(r#"{{"policies": [{{"name": "api", "allow_origins": {}"#, "[".repeat(100_000)),
             Refusal { problem: json(), policy: None, field: "", value: None })),
        ("a field written twice",
            (r#"{"policies": [{"name": "api", "allow_origins": ["*"], "allow_origins": ["https://evil.example"]}]}"#.to_string(),
             Refusal { problem: shape("duplicate field `allow_origins`"), policy: Some(r#"policy "api""#), field: "", value: None })),
        ("the document is not an object",
            ("[1]".to_string(), Refusal { problem: shape("invalid type: sequence, expected a JSON object"), policy: None, field: "", value: Some("[1]") })),
        ("an unknown top-level field",
            (format!(r#"{{"policies": [{policy}], "polices": 1}}"#),
             Refusal { problem: shape("unknown field `polices`"), policy: None, field: "polices", value: Some("1") })),
        ("an unknown mode",
            (format!(r#"{{"mode": "audit", "policies": [{policy}]}}"#),
             Refusal { problem: shape(r#"must be "enforce" or "shadow""#), policy: None, field: "mode", value: Some(r#""audit""#) })),
        ("a mode that is not a string",
            (format!(r#"{{"mode": true, "policies": [{policy}]}}"#),
             Refusal { problem: shape("invalid type: boolean `true`, expected a string"), policy: None, field: "mode", value: Some("true") })),
        ("policies missing",
            ("{}".to_string(), Refusal { problem: shape("missing field `policies`"), policy: None, field: "", value: None })),
        ("policies empty",
            (r#"{"policies": []}"#.to_string(), Refusal { problem: NoPolicies, policy: None, field: "policies", value: None })),
        ("policies not a list",
            (r#"{"policies": "all"}"#.to_string(),
             Refusal { problem: shape(r#"invalid type: string "all", expected a sequence"#), policy: None, field: "policies", value: Some(r#""all""#) })),
        ("a policy that is not an object",
            (r#"{"policies": ["api"]}"#.to_string(),
             Refusal { problem: shape("expected a JSON object"), policy: Some("policies[0]"), field: "", value: Some(r#""api""#) })),
        ("a policy without a name",
            (format!(r#"{{"policies": [{policy}, {{"allow_origins": ["*"]}}]}}"#),
             Refusal { problem: shape("missing field `name`"), policy: Some("policies[1]"), field: "", value: None })),
        ("an empty name",
            (r#"{"policies": [{"name": "", "allow_origins": ["*"]}]}"#.to_string(),
             Refusal { problem: EmptyString, policy: Some("policies[0]"), field: "name", value: Some(r#""""#) })),
        ("a name that is not a string",
            (r#"{"policies": [{"name": 7, "allow_origins": ["*"]}]}"#.to_string(),
             Refusal { problem: shape("invalid type: integer `7`, expected a string"), policy: Some("policies[0]"), field: "name", value: Some("7") })),
        ("two policies share a name",
            (format!(r#"{{"policies": [{policy}, {policy}]}}"#),
             refusal(DuplicateName { first: 0 }, "name", Some(r#""api""#)))),
    ];
    check_refusals(&rows);
}

#[test]
fn policy_field_refusals() {
    use Problem::*;
    #[rustfmt::skip]
    let rows = [
        ("an unknown field",
            (api_with(r#""allow_origin": ["https://a.example.com"]"#), refusal(shape("unknown field `allow_origin`"), "allow_origin", Some(r#"["https://a.example.com"]"#)))),
        ("an unknown field in match",
            (api_with(r#""match": {"host": ["a.example.com"]}"#), refusal(shape("unknown field `host`"), "match.host", Some(r#"["a.example.com"]"#)))),
        ("match not an object",
            (api_with(r#""match": ["/api/*"]"#), refusal(shape("expected a JSON object"), "match", Some(r#"["/api/*"]"#)))),
        ("match.hosts not a list",
            (api_with(r#""match": {"hosts": "a.example.com"}"#),
             refusal(shape("expected a sequence"), "match.hosts", Some(r#""a.example.com""#)))),
        ("match.hosts empty",
            (api_with(r#""match": {"hosts": []}"#), refusal(EmptyMatchList, "match.hosts", None))),
        ("match.paths empty",
            (api_with(r#""match": {"paths": []}"#), refusal(EmptyMatchList, "match.paths", None))),
        ("a host with a port",
            (api_with(r#""match": {"hosts": ["a.example.com", "api.example.com:8080"]}"#),
             refusal(BadHostPattern, "match.hosts[1]", Some(r#""api.example.com:8080""#)))),
        ("a host that is only *",
            (api_with(r#""match": {"hosts": ["*"]}"#), refusal(BadHostPattern, "match.hosts[0]", Some(r#""*""#)))),
        ("a host with an inner *",
            (api_with(r#""match": {"hosts": ["a.*.com"]}"#), refusal(BadHostPattern, "match.hosts[0]", Some(r#""a.*.com""#)))),
        ("a non-ASCII host",
            (api_with(r#""match": {"hosts": ["bücher.de"]}"#), refusal(BadHostPattern, "match.hosts[0]", Some(r#""bücher.de""#)))),
        ("a host that is not a string",
            (api_with(r#""match": {"hosts": [1]}"#), refusal(shape("invalid type: integer `1`, expected a string"), "match.hosts[0]", Some("1")))),
        ("a path without its leading slash",
            (api_with(r#""match": {"paths": ["api/*"]}"#), refusal(BadPath, "match.paths[0]", Some(r#""api/*""#)))),
        ("a path with an inner *",
            (api_with(r#""match": {"paths": ["/a/*/b"]}"#), refusal(BadPath, "match.paths[0]", Some(r#""/a/*/b""#)))),
        ("an empty path",
            (api_with(r#""match": {"paths": [""]}"#), refusal(BadPath, "match.paths[0]", Some(r#""""#)))),
        ("allow_credentials not a boolean",
            (api_with(r#""allow_credentials": "true""#),
             refusal(shape("expected a boolean"), "allow_credentials", Some(r#""true""#)))),
        ("allow_private_network not a boolean",
            (api_with(r#""allow_private_network": 1"#), refusal(shape("expected a boolean"), "allow_private_network", Some("1")))),
        ("an unknown disallowed",
            (api_with(r#""disallowed": "deny""#), refusal(shape(r#"must be "pass" or "reject""#), "disallowed", Some(r#""deny""#)))),
        ("max_age negative",
            (api_with(r#""max_age": -1"#), refusal(MaxAgeOutOfRange, "max_age", Some("-1")))),
        ("max_age above a day",
            (api_with(r#""max_age": 86401"#), refusal(MaxAgeOutOfRange, "max_age", Some("86401")))),
        ("max_age a fraction",
            (api_with(r#""max_age": 1.5"#), refusal(MaxAgeOutOfRange, "max_age", Some("1.5")))),
        ("max_age a fraction above a day",
            (api_with(r#""max_age": 86400.5"#), refusal(MaxAgeOutOfRange, "max_age", Some("86400.5")))),
        ("max_age a string",
            (api_with(r#""max_age": "600""#), refusal(shape("expected a JSON number"), "max_age", Some(r#""600""#)))),
        ("max_age null",
            (api_with(r#""max_age": null"#), refusal(shape("invalid type: null, expected a JSON number"), "max_age", Some("null")))),
    ];
    check_refusals(&rows);
}

#[test]
fn origin_refusals() {
    use Problem::*;
    let one = |entry: &str| api(&format!("{entry:?}"), "");
    let value = |entry: &'static str| Some(entry);
    #[rustfmt::skip]
    let rows = [
        ("allow_origins missing",
            (r#"{"policies": [{"name": "api"}]}"#.to_string(), refusal(shape("missing field `allow_origins`"), "", None))),
        ("allow_origins empty",
            (api("", ""), refusal(EmptyList, "allow_origins", None))),
        ("allow_origins not a list",
            (r#"{"policies": [{"name": "api", "allow_origins": "*"}]}"#.to_string(),
             refusal(shape("expected a sequence"), "allow_origins", value(r#""*""#)))),
        ("an entry that is not a string",
            (api(r#""https://a.example.com", 5"#, ""), refusal(shape("invalid type: integer `5`, expected a string"), "allow_origins[1]", value("5")))),
        ("* with other entries",
            (api(r#""https://a.example.com", "*""#, ""), refusal(AnyOriginNotAlone, "allow_origins[1]", value(r#""*""#)))),
        ("an empty entry", (one(""), refusal(EmptyString, "allow_origins[0]", value(r#""""#)))),
        ("no scheme", (one("app.example.com"), refusal(MissingScheme, "allow_origins[0]", value(r#""app.example.com""#)))),
        ("a bad scheme", (one("1http://a.com"), refusal(BadScheme, "allow_origins[0]", value(r#""1http://a.com""#)))),
        ("a path, even /",
            (one("https://app.example.com/"), refusal(OriginWithPath, "allow_origins[0]", value(r#""https://app.example.com/""#)))),
        ("a longer path",
            (one("https://app.example.com/x"), refusal(OriginWithPath, "allow_origins[0]", value(r#""https://app.example.com/x""#)))),
        ("a query",
            (one("https://app.example.com?q"), refusal(OriginWithQuery, "allow_origins[0]", value(r#""https://app.example.com?q""#)))),
        ("a fragment",
            (one("https://app.example.com#f"), refusal(OriginWithFragment, "allow_origins[0]", value(r#""https://app.example.com#f""#)))),
        ("userinfo",
            (one("https://user:pw@app.example.com"),
             refusal(OriginWithUserinfo, "allow_origins[0]", value(r#""https://user:pw@app.example.com""#)))),
        ("a non-ASCII host: ask for punycode",
            (one("https://bücher.example"), refusal(NonAsciiHost, "allow_origins[0]", value(r#""https://bücher.example""#)))),
        ("an empty host", (one("https://"), refusal(BadHost, "allow_origins[0]", value(r#""https://""#)))),
        ("an empty label", (one("https://a..b.com"), refusal(BadHost, "allow_origins[0]", value(r#""https://a..b.com""#)))),
        ("a host with a space", (one("https://a b.com"), refusal(BadHost, "allow_origins[0]", value(r#""https://a b.com""#)))),
        ("a dotted number that is no IPv4 address",
            (one("https://1.2.3"), refusal(BadHost, "allow_origins[0]", value(r#""https://1.2.3""#)))),
        ("port 0", (one("https://a.com:0"), refusal(BadPort, "allow_origins[0]", value(r#""https://a.com:0""#)))),
        ("port above 65535", (one("https://a.com:65536"), refusal(BadPort, "allow_origins[0]", value(r#""https://a.com:65536""#)))),
        ("a port that is not a number",
            (one("https://a.com:https"), refusal(BadPort, "allow_origins[0]", value(r#""https://a.com:https""#)))),
        ("an empty port", (one("https://a.com:"), refusal(BadPort, "allow_origins[0]", value(r#""https://a.com:""#)))),
        ("a bare *", (one("https://*"), refusal(MisplacedWildcard, "allow_origins[0]", value(r#""https://*""#)))),
        ("an empty wildcard suffix", (one("https://*."), refusal(MisplacedWildcard, "allow_origins[0]", value(r#""https://*.""#)))),
        ("two * inside a label",
            (one("https://a*b*.example.com"), refusal(TwoWildcardsInLabel, "allow_origins[0]", value(r#""https://a*b*.example.com""#)))),
        ("a glob label alone",
            (one("https://pr-*"), refusal(MisplacedWildcard, "allow_origins[0]", value(r#""https://pr-*""#)))),
        ("* in the middle",
            (one("https://a.*.example.com"), refusal(MisplacedWildcard, "allow_origins[0]", value(r#""https://a.*.example.com""#)))),
        ("two wildcard labels",
            (one("https://*.*.example.com"), refusal(MisplacedWildcard, "allow_origins[0]", value(r#""https://*.*.example.com""#)))),
        ("a wildcard scheme",
            (one("*://a.example.com"), refusal(MisplacedWildcard, "allow_origins[0]", value(r#""*://a.example.com""#)))),
        ("a wildcard over a whole top-level domain",
            (one("https://*.com"), refusal(WildcardCoversTopLevelDomain, "allow_origins[0]", value(r#""https://*.com""#)))),
        ("a wildcard over addresses",
            (one("https://*.0.0.1"), refusal(WildcardCoversAddresses, "allow_origins[0]", value(r#""https://*.0.0.1""#)))),
    ];
    check_refusals(&rows);
}

#[test]
fn credential_refusals() {
    use Problem::*;
    let creds = r#""allow_credentials": true"#;
    let with_creds = |fields: &str| api_with(&format!("{creds}, {fields}"));
    #[rustfmt::skip]
    let rows = [
        ("* origin",
            (api(r#""*""#, creds), refusal(CredentialsWithWildcard, "allow_origins[0]", Some(r#""*""#)))),
        ("null origin",
            (api(r#""https://app.example.com", "null""#, creds),
             refusal(CredentialsWithNullOrigin, "allow_origins[1]", Some(r#""null""#)))),
        ("* methods",
            (with_creds(r#""allow_methods": ["GET", "*"]"#), refusal(CredentialsWithWildcard, "allow_methods[1]", Some(r#""*""#)))),
        ("* request headers",
            (with_creds(r#""allow_headers": ["*"]"#), refusal(CredentialsWithWildcard, "allow_headers[0]", Some(r#""*""#)))),
        ("* exposed headers",
            (with_creds(r#""expose_headers": ["X-A", "*"]"#), refusal(CredentialsWithWildcard, "expose_headers[1]", Some(r#""*""#)))),
        ("plain http to a public host",
            (api(r#""http://app.example.com""#, creds),
             refusal(CredentialsOverPlainHttp, "allow_origins[0]", Some(r#""http://app.example.com""#)))),
        ("plain http to a private address",
            (api(r#""http://10.0.0.1:8080""#, creds),
             refusal(CredentialsOverPlainHttp, "allow_origins[0]", Some(r#""http://10.0.0.1:8080""#)))),
        ("plain http on a subdomain pattern",
            (api(r#""http://*.example.com""#, creds),
             refusal(CredentialsOverPlainHttp, "allow_origins[0]", Some(r#""http://*.example.com""#)))),
        ("plain http on any port of a public host",
            (api(r#""http://app.example.com:*""#, creds),
             refusal(CredentialsOverPlainHttp, "allow_origins[0]", Some(r#""http://app.example.com:*""#)))),
        ("a name that only starts like localhost",
            (api(r#""http://localhost.example.com""#, creds),
             refusal(CredentialsOverPlainHttp, "allow_origins[0]", Some(r#""http://localhost.example.com""#)))),
        ("an address outside 127.0.0.0/8",
            (api(r#""http://128.0.0.1""#, creds),
             refusal(CredentialsOverPlainHttp, "allow_origins[0]", Some(r#""http://128.0.0.1""#)))),
    ];
    check_refusals(&rows);
}

#[test]
fn method_and_header_refusals() {
    use Problem::*;
    #[rustfmt::skip]
    let rows = [
        ("allow_methods empty",
            (api_with(r#""allow_methods": []"#), refusal(EmptyList, "allow_methods", None))),
        ("allow_methods not a list",
            (api_with(r#""allow_methods": "GET""#), refusal(shape("expected a sequence"), "allow_methods", Some(r#""GET""#)))),
        ("a method that is not a string",
            (api_with(r#""allow_methods": ["GET", null]"#), refusal(shape("invalid type: null, expected a string"), "allow_methods[1]", Some("null")))),
        ("two methods in one entry",
            (api_with(r#""allow_methods": ["GET, PUT"]"#), refusal(NotAMethod, "allow_methods[0]", Some(r#""GET, PUT""#)))),
        ("an empty method",
            (api_with(r#""allow_methods": [""]"#), refusal(NotAMethod, "allow_methods[0]", Some(r#""""#)))),
        ("a non-ASCII method",
            (api_with(r#""allow_methods": ["PÜT"]"#), refusal(NotAMethod, "allow_methods[0]", Some(r#""PÜT""#)))),
        ("CONNECT",
            (api_with(r#""allow_methods": ["CONNECT"]"#), refusal(ForbiddenMethod, "allow_methods[0]", Some(r#""CONNECT""#)))),
        ("trace in any case",
            (api_with(r#""allow_methods": ["GET", "trace"]"#), refusal(ForbiddenMethod, "allow_methods[1]", Some(r#""trace""#)))),
        ("TRACK",
            (api_with(r#""allow_methods": ["Track"]"#), refusal(ForbiddenMethod, "allow_methods[0]", Some(r#""Track""#)))),
        ("a request header that is not a token",
            (api_with(r#""allow_headers": ["X-A", "X B"]"#), refusal(NotAHeaderName, "allow_headers[1]", Some(r#""X B""#)))),
        ("a request header with a colon",
            (api_with(r#""allow_headers": ["X-A:"]"#), refusal(NotAHeaderName, "allow_headers[0]", Some(r#""X-A:""#)))),
        ("an empty request header",
            (api_with(r#""allow_headers": [""]"#), refusal(NotAHeaderName, "allow_headers[0]", Some(r#""""#)))),
        ("Cookie",
            (api_with(r#""allow_headers": ["Cookie"]"#), refusal(ForbiddenRequestHeader, "allow_headers[0]", Some(r#""Cookie""#)))),
        ("Host",
            (api_with(r#""allow_headers": ["host"]"#), refusal(ForbiddenRequestHeader, "allow_headers[0]", Some(r#""host""#)))),
        ("Origin",
            (api_with(r#""allow_headers": ["ORIGIN"]"#), refusal(ForbiddenRequestHeader, "allow_headers[0]", Some(r#""ORIGIN""#)))),
        ("a Proxy- header",
            (api_with(r#""allow_headers": ["Proxy-Authorization"]"#),
             refusal(ForbiddenRequestHeader, "allow_headers[0]", Some(r#""Proxy-Authorization""#)))),
        ("a Sec- header",
            (api_with(r#""allow_headers": ["Sec-Fetch-Mode"]"#),
             refusal(ForbiddenRequestHeader, "allow_headers[0]", Some(r#""Sec-Fetch-Mode""#)))),
        ("a CORS request header",
            (api_with(r#""allow_headers": ["Access-Control-Request-Method"]"#),
             refusal(ForbiddenRequestHeader, "allow_headers[0]", Some(r#""Access-Control-Request-Method""#)))),
        ("an exposed header that is not a token",
            (api_with(r#""expose_headers": ["X(A)"]"#), refusal(NotAHeaderName, "expose_headers[0]", Some(r#""X(A)""#)))),
        ("Set-Cookie exposed",
            (api_with(r#""expose_headers": ["Set-Cookie"]"#),
             refusal(ForbiddenResponseHeader, "expose_headers[0]", Some(r#""Set-Cookie""#)))),
        ("Set-Cookie2 exposed",
            (api_with(r#""expose_headers": ["x-a", "set-cookie2"]"#),
             refusal(ForbiddenResponseHeader, "expose_headers[1]", Some(r#""set-cookie2""#)))),
        ("expose_headers not a list",
            (api_with(r#""expose_headers": {}"#), refusal(shape("invalid type: map, expected a sequence"), "expose_headers", None))),
    ];
    check_refusals(&rows);
}

#[test]
fn configs_just_inside_the_rules_are_accepted() {
    let creds = r#""allow_credentials": true"#;
    #[rustfmt::skip]
    let rows: &[(&str, String)] = &[
        ("credentials with http://localhost",            api(r#""http://localhost""#, creds)),
        ("credentials with http://localhost on any port", api(r#""http://localhost:*""#, creds)),
        ("credentials with http://127.0.0.1:8080",       api(r#""http://127.0.0.1:8080""#, creds)),
        ("credentials with anywhere in 127.0.0.0/8",     api(r#""http://127.9.9.9""#, creds)),
        ("credentials with http://[::1]:3000",           api(r#""http://[::1]:3000""#, creds)),
        ("credentials with https patterns",              api(r#""https://*.example.com", "https://a.example.com:*""#, creds)),
        ("credentials with Authorization listed",        api_with(&format!(r#"{creds}, "allow_headers": ["Authorization"]"#))),
        ("credentials false with everything *",
            api(r#""*""#, r#""allow_credentials": false, "allow_methods": ["*"], "allow_headers": ["*"], "expose_headers": ["*"]"#)),
        ("null without credentials",                     api(r#""null""#, "")),
        ("plain http without credentials",               api(r#""http://app.example.com", "http://*.example.com""#, "")),
        ("a wildcard over a two-label suffix",           api(r#""https://*.co.uk""#, "")),
        ("an IPv4 origin",                               api(r#""https://10.0.0.1:8443""#, "")),
        ("another scheme",                               api(r#""chrome-extension://abcdefgh""#, "")),
        ("star headers with Authorization listed",       api_with(r#""allow_headers": ["*", "Authorization"]"#)),
        ("lowercase methods",                            api_with(r#""allow_methods": ["put", "patch"]"#)),
        ("empty header lists",                           api_with(r#""allow_headers": [], "expose_headers": []"#)),
        ("max_age 0",                                    api_with(r#""max_age": 0"#)),
        ("max_age 86400",                                api_with(r#""max_age": 86400"#)),
        ("max_age 3600.0, as Istio sends it",            api_with(r#""max_age": 3600.0"#)),
        ("max_age 86400.0",                              api_with(r#""max_age": 86400.0"#)),
        ("disallowed pass",                              api_with(r#""disallowed": "pass""#)),
        ("disallowed reject",                            api_with(r#""disallowed": "reject""#)),
        ("private network on",                           api_with(r#""allow_private_network": true"#)),
        ("match on every field",
            api_with(r#""match": {"hosts": ["api.example.com", "*.example.net"], "paths": ["/api/*", "/health", "*"]}"#)),
        ("shadow mode",
            r#"{"mode": "shadow", "policies": [{"name": "p", "allow_origins": ["*"]}]}"#.to_string()),
    ];
    table(rows, |json| {
        Config::from_json(json.as_bytes())
            .map(drop)
            .map_err(|e| e.to_string())
    });
}

#[test]
fn every_problem_in_a_document_is_reported() {
    use Problem::*;
    let json = r#"{"mode": "shadow", "policies": [
        {"name": "a", "allow_origins": ["https://*.com", "https://ok.example.com/"], "max_age": -1},
        {"name": "", "allow_origins": ["*"], "allow_credentials": true},
        {"name": "a", "allow_origins": ["https://x.example.com"], "allow_methods": ["TRACE"],
         "allow_headers": ["Cookie"], "match": {"paths": []}},
        {"name": "fine", "allow_origins": ["*"]},
        {"name": "b", "allow_origins": []}
    ]}"#;
    let a = Some(r#"policy "a""#);
    #[rustfmt::skip]
    let want = [
        Refusal { problem: WildcardCoversTopLevelDomain, policy: a, field: "allow_origins[0]", value: Some(r#""https://*.com""#) },
        Refusal { problem: OriginWithPath, policy: a, field: "allow_origins[1]", value: Some(r#""https://ok.example.com/""#) },
        Refusal { problem: MaxAgeOutOfRange, policy: a, field: "max_age", value: Some("-1") },
        Refusal { problem: EmptyString, policy: Some("policies[1]"), field: "name", value: Some(r#""""#) },
        Refusal { problem: CredentialsWithWildcard, policy: Some("policies[1]"), field: "allow_origins[0]", value: Some(r#""*""#) },
        Refusal { problem: DuplicateName { first: 0 }, policy: a, field: "name", value: Some(r#""a""#) },
        Refusal { problem: EmptyMatchList, policy: a, field: "match.paths", value: None },
        Refusal { problem: ForbiddenMethod, policy: a, field: "allow_methods[0]", value: Some(r#""TRACE""#) },
        Refusal { problem: ForbiddenRequestHeader, policy: a, field: "allow_headers[0]", value: Some(r#""Cookie""#) },
        Refusal { problem: EmptyList, policy: Some(r#"policy "b""#), field: "allow_origins", value: None },
    ];
    let errors = refusals(json).unwrap();
    let message = Config::from_json(json.as_bytes()).unwrap_err().to_string();
    // Each error once, one per line, in the order of the document's policies.
    assert_eq!(message.lines().count(), want.len(), "{message}");
    let mut unmatched: Vec<&ConfigError> = errors.iter().collect();
    let mut failures = Vec::new();
    for wanted in &want {
        match unmatched.iter().position(|e| matches(e, wanted).is_ok()) {
            Some(i) => drop(unmatched.remove(i)),
            None => failures.push(format!(
                "not reported: {:?} at {}",
                wanted.problem, wanted.field
            )),
        }
    }
    failures.extend(unmatched.iter().map(|e| format!("unexpected: {e}")));
    assert!(
        failures.is_empty(),
        "{}\nmessage:\n{message}",
        failures.join("\n")
    );
    let policies: Vec<Option<String>> = errors
        .iter()
        .map(|e| e.policy().map(ToString::to_string))
        .collect();
    let mut grouped = policies.clone();
    grouped.dedup();
    let grouped: Vec<Option<&str>> = grouped.iter().map(Option::as_deref).collect();
    assert_eq!(
        grouped,
        [a, Some("policies[1]"), a, Some(r#"policy "b""#)],
        "{message}"
    );
}

/// A document that does not fit the model stops at the first place it does
/// not, and says where: the line and column as well as the policy and field.
#[test]
fn a_shape_error_is_reported_alone_with_its_position() {
    let json = "{\"policies\": [\n  {\"name\": \"api\", \"allow_origins\": [\"*\"], \"colour\": 1},\n  {\"name\": 7}\n]}";
    let errors = refusals(json).unwrap();
    let [error] = errors.as_slice() else {
        panic!("want one error: {errors:#?}");
    };
    let Problem::Shape(position) = error.problem() else {
        panic!("not a shape error: {error:?}");
    };
    assert_eq!((position.line, position.column), (2, 50), "{error}");
    assert_eq!(
        error.to_string(),
        "policy \"api\" colour 1: unknown field `colour`, expected one of `name`, `match`, \
         `allow_origins`, `allow_methods`, `allow_headers`, `expose_headers`, `allow_credentials`, \
         `max_age`, `allow_private_network`, `disallowed` (line 2, column 50)"
    );
    let field = error.field();
    assert_eq!(field.segments(), [Segment::Field("colour".into())]);
    assert_eq!(error.policy().map(|p| p.index), Some(0));
}

#[test]
fn long_values_are_cut_in_messages() {
    // Any origin is quoted whole, even one whose host is a byte too long.
    let host = format!(
        "{}.{}.{}.{}.example.com",
        "a".repeat(63),
        "b".repeat(63),
        "c".repeat(63),
        "d".repeat(50)
    );
    assert_eq!(host.len(), 254);
    let quoted = format!(r#""https://{host}:65535""#);
    let errors = refusals(&api(&quoted, "")).unwrap();
    assert_eq!(errors[0].value(), Some(quoted.as_str()));

    let long = format!("https://{}.example.com/", "a".repeat(500));
    let errors = refusals(&api(&format!("{long:?}"), "")).unwrap();
    let line = errors[0].to_string();
    assert!(line.len() < 400, "{line}");
    assert!(
        line.contains(r#"policy "api" allow_origins[0] "https://aaaa"#),
        "{line}"
    );
    assert!(line.contains('…'), "{line}");
}
