//! `cors-filter explain`: the policy, the outcome, the exact headers, and
//! for a denial the reason and the closest allowed value.

mod common;
use common::{file, run, run_with_stdin, Run, SPEC_CONFIG};

fn explain(extra: &[&str]) -> Run {
    let config = file("explain-spec.json", SPEC_CONFIG);
    let mut args = vec!["explain", config.as_str()];
    args.extend_from_slice(extra);
    run(&args)
}

fn preflight(origin: &str, method: &str, headers: Option<&str>) -> Run {
    let origin = format!("Origin: {origin}");
    let method = format!("Access-Control-Request-Method: {method}");
    let mut args = vec![
        "--method",
        "OPTIONS",
        "--url",
        "https://api.example.com/api/items",
        "--header",
        origin.as_str(),
        "--header",
        method.as_str(),
    ];
    let requested = headers.map(|h| format!("Access-Control-Request-Headers: {h}"));
    if let Some(requested) = &requested {
        args.extend_from_slice(&["--header", requested.as_str()]);
    }
    explain(&args)
}

const PREFLIGHT_VARY: &str =
    "  vary: Origin, Access-Control-Request-Method, Access-Control-Request-Headers";

#[test]
fn allowed_preflight_shows_the_exact_answer() {
    let run = preflight(
        "https://app.example.com",
        "PUT",
        Some("Content-Type, X-CSRF-Token"),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let expected = "\
request:  OPTIONS https://api.example.com/api/items
policy:   \"authenticated\" (policies[1])
kind:     preflight (OPTIONS with Origin and Access-Control-Request-Method)
outcome:  preflight_allowed
answer:   204 at the edge; the request is not forwarded, the body is empty
  access-control-allow-origin: https://app.example.com
  access-control-allow-credentials: true
  access-control-allow-methods: GET, POST, PUT, DELETE
  access-control-allow-headers: content-type,x-csrf-token
  access-control-max-age: 3600
  vary: Origin, Access-Control-Request-Method, Access-Control-Request-Headers
";
    assert_eq!(run.stdout, expected);
}

#[test]
fn trailing_slash_and_bare_domain_are_named() {
    let run = preflight("https://example.com/", "PUT", None);
    run.has_line("outcome:  preflight_denied_origin");
    run.has_line("reason:   origin \"https://example.com/\" is not in allow_origins");
    run.has_line("closest:  allow_origins[1] \"https://*.example.com\"");
    run.has_line("  - it ends in \"/\": an origin is scheme://host[:port], with no path, not even a trailing \"/\"");
    run.has_line("  - \"*.example.com\" matches the subdomains of example.com, never example.com itself: add \"https://example.com\"");
    run.has_line("answer:   403 at the edge; the request is not forwarded, the body is empty");
    run.has_line(PREFLIGHT_VARY);
    assert!(
        !run.stdout.contains("access-control-allow"),
        "{}",
        run.stdout
    );
}

#[test]
fn scheme_and_port_differences_are_named() {
    let run = preflight("http://app.example.com:8080", "PUT", None);
    run.has_line("closest:  allow_origins[0] \"https://app.example.com\"");
    run.has_line("  - the scheme differs: the entry allows https, the Origin is http (the page was loaded over plain http)");
    run.has_line("  - the port differs: the entry allows the default port only, the Origin has :8080: add :8080 (or :*) to the entry");
}

#[test]
fn look_alike_domain_is_not_a_subdomain() {
    let run = preflight("https://evilexample.com", "PUT", None);
    run.has_line("closest:  allow_origins[1] \"https://*.example.com\"");
    run.has_line("  - evilexample.com only ends with the same letters: \"*.example.com\" matches whole labels (a.example.com), and evilexample.com is another domain");
}

#[test]
fn uppercase_origin_would_match_when_serialized() {
    let run = explain(&[
        "--json",
        "--method",
        "GET",
        "--url",
        "https://api.example.com/api/items",
        "--header",
        "Origin: https://App.example.com",
    ]);
    let report = run.json();
    assert_eq!(report["outcome"], "actual_denied");
    assert_eq!(report["preflight"], false);
    assert_eq!(report["denial"]["kind"], "origin");
    assert_eq!(report["denial"]["value"], "https://App.example.com");
    assert_eq!(
        report["denial"]["message"],
        "origin \"https://App.example.com\" is not in allow_origins"
    );
    let closest = &report["closest_origin"];
    assert_eq!(closest["index"], 0);
    assert_eq!(closest["entry"], "https://app.example.com");
    let codes: Vec<&str> = closest["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .map(|r| r["code"].as_str().expect("code"))
        .collect();
    assert_eq!(codes, ["origin_uppercase", "matches_when_serialized"]);
    assert_eq!(report["answer"]["kind"], "forward");
    assert_eq!(report["answer"]["removes_upstream_cors_headers"], true);
    assert_eq!(
        report["answer"]["headers"],
        serde_json::json!([["vary", "Origin"]])
    );
}

#[test]
fn method_denial_lists_the_allowed_methods() {
    let run = preflight("https://app.example.com", "put", None);
    run.has_line("outcome:  preflight_denied_method");
    run.has_line("reason:   method \"put\" is not in allow_methods");
    run.has_line("allowed methods: GET, POST, PUT, DELETE, HEAD");
    assert!(
        run.stdout.contains("hint:     methods compare byte for byte, as browsers compare them: \"put\" is not \"PUT\""),
        "{}",
        run.stdout
    );
    let patch = preflight("https://app.example.com", "PATCH", None);
    patch.has_line("hint:     add \"PATCH\" to allow_methods, or stop using it from the page");
}

#[test]
fn header_denial_lists_the_allowed_headers() {
    let run = preflight(
        "https://app.example.com",
        "PUT",
        Some("content-type, x-foo"),
    );
    run.has_line("outcome:  preflight_denied_headers");
    run.has_line("reason:   request header \"x-foo\" is not in allow_headers");
    run.has_line("allowed request headers: content-type, authorization, x-csrf-token");
    run.has_line(PREFLIGHT_VARY);
}

#[test]
fn star_headers_do_not_cover_authorization() {
    let config = file(
        "star-headers.json",
        r#"{"policies": [{"name": "open", "allow_origins": ["https://app.example.com"], "allow_headers": ["*"]}]}"#,
    );
    let run = run(&[
        "explain",
        &config,
        "--method",
        "OPTIONS",
        "--url",
        "https://api.example.com/",
        "--header",
        "Origin: https://app.example.com",
        "--header",
        "Access-Control-Request-Method: GET",
        "--header",
        "Access-Control-Request-Headers: authorization",
    ]);
    run.has_line("outcome:  preflight_denied_headers");
    run.has_line("hint:     \"*\" in allow_headers covers every name but Authorization, which must be listed by name (as the Fetch Standard rules)");
}

#[test]
fn allowed_actual_request_shows_the_response_edits() {
    let run = explain(&[
        "--method",
        "GET",
        "--url",
        "https://api.example.com/api/items?page=2",
        "--header",
        "Origin: https://a.b.example.com",
    ]);
    run.has_line("kind:     actual request");
    run.has_line("outcome:  actual_allowed");
    run.has_line("answer:   forwarded; on the way back the filter removes the upstream's access-control-* headers and sets these (shown for an empty upstream response)");
    run.has_line("  access-control-allow-origin: https://a.b.example.com");
    run.has_line("  access-control-allow-credentials: true");
    run.has_line("  access-control-expose-headers: X-RateLimit-Remaining");
    run.has_line("  vary: Origin");
}

#[test]
fn rejected_actual_request_is_answered_403() {
    let config = file(
        "reject.json",
        r#"{"policies": [{"name": "strict", "allow_origins": ["https://app.example.com"], "disallowed": "reject"}]}"#,
    );
    let run = run(&[
        "explain",
        &config,
        "--method",
        "POST",
        "--url",
        "https://api.example.com/orders",
        "--header",
        "Origin: https://app.example.com:8443",
    ]);
    run.has_line("outcome:  actual_rejected");
    run.has_line("answer:   403 at the edge; the request is not forwarded, the body is empty");
    run.has_line("  vary: Origin");
    run.has_line("  - the port differs: the entry allows the default port only, the Origin has :8443: add :8443 (or :*) to the entry");
}

#[test]
fn no_policy_says_why_each_does_not_fit() {
    let run = explain(&[
        "--method",
        "GET",
        "--url",
        "https://www.example.com/api/items",
    ]);
    assert_eq!(run.code, 0);
    run.has_line("policy:   none: no policy's match fits, so the request passes through untouched (no header added or removed)");
    run.has_line("  policy \"public\" (policies[0]): path \"/api/items\" is not in match.paths");
    run.has_line(
        "  policy \"authenticated\" (policies[1]): host \"www.example.com\" is not in match.hosts",
    );
    let json = explain(&[
        "--json",
        "--method",
        "GET",
        "--url",
        "https://www.example.com/",
    ])
    .json();
    assert_eq!(json["policy"], serde_json::Value::Null);
    assert_eq!(json["outcome"], serde_json::Value::Null);
    assert_eq!(json["answer"]["kind"], "untouched");
    assert_eq!(json["unmatched"].as_array().map(Vec::len), Some(2));
}

#[test]
fn raw_request_on_stdin() {
    let config = file("raw-spec.json", SPEC_CONFIG);
    let request = "OPTIONS /public/logo.png HTTP/1.1\r\n\
                   Host: cdn.example.com\r\n\
                   Origin: https://anyone.example\r\n\
                   Access-Control-Request-Method: GET\r\n\
                   \r\n";
    let run = run_with_stdin(&["explain", &config, "-"], request);
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.has_line("request:  OPTIONS https://cdn.example.com/public/logo.png");
    run.has_line("policy:   \"public\" (policies[0])");
    run.has_line("outcome:  preflight_allowed");
    run.has_line("  access-control-allow-origin: *");
    run.has_line("  access-control-allow-methods: GET");
    run.has_line("  access-control-max-age: 600");
    let http = run_with_stdin(&["explain", "--scheme", "http", &config, "-"], request);
    http.has_line("request:  OPTIONS http://cdn.example.com/public/logo.png");
}

#[test]
fn several_origin_lines_are_joined_as_a_proxy_joins_them() {
    let run = explain(&[
        "--json",
        "--method",
        "GET",
        "--url",
        "https://api.example.com/api/x",
        "--header",
        "Origin: https://app.example.com",
        "--header",
        "Origin: https://evil.example",
    ]);
    let report = run.json();
    assert_eq!(report["outcome"], "actual_denied");
    assert_eq!(
        report["denial"]["value"],
        "https://app.example.com, https://evil.example"
    );
    assert_eq!(
        report["closest_origin"]["reasons"][0]["code"],
        "several_origins"
    );
}

#[test]
fn shadow_mode_changes_nothing_but_shows_enforce() {
    let config = file(
        "shadow.json",
        r#"{"mode": "shadow", "policies": [{"name": "api", "allow_origins": ["https://app.example.com"]}]}"#,
    );
    let run = run(&[
        "explain",
        &config,
        "--method",
        "OPTIONS",
        "--url",
        "https://api.example.com/",
        "--header",
        "Origin: https://other.example.com",
        "--header",
        "Access-Control-Request-Method: PUT",
    ]);
    run.has_line("outcome:  preflight_denied_origin");
    run.has_line("answer:   none: mode is shadow, so the request and the response pass unchanged");
    run.has_line("answer:   in enforce mode, 403 at the edge; the request is not forwarded, the body is empty");
    run.has_line(PREFLIGHT_VARY);
}

#[test]
fn null_origin_without_a_null_entry() {
    let run = preflight("null", "PUT", None);
    run.has_line("closest:  no entry is near");
    assert!(
        run.stdout.contains("allow_origins has no \"null\""),
        "{}",
        run.stdout
    );
}

#[test]
fn explain_usage_errors() {
    let config = file("usage-spec.json", SPEC_CONFIG);
    for args in [
        &["explain", config.as_str()][..],
        &["explain", config.as_str(), "--method", "GET"][..],
        &[
            "explain",
            config.as_str(),
            "--method",
            "GET",
            "--url",
            "api.example.com/x",
        ][..],
        &[
            "explain",
            config.as_str(),
            "--method",
            "GET",
            "--url",
            "https://a/",
            "--header",
            "no colon",
        ][..],
        &["explain", "-", "-"][..],
    ] {
        assert_eq!(run(args).code, 2, "{args:?}");
    }
    let refused = file("explain-refused.json", r#"{"policies": []}"#);
    let run = run(&[
        "explain",
        &refused,
        "--method",
        "GET",
        "--url",
        "https://a/",
    ]);
    assert_eq!(run.code, 1);
    run.has_err_line("policies: must list at least one policy");
}
