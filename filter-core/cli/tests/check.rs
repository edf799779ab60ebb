//! `cors-filter check`: refusals with the engine's messages, the normalized
//! policies, the warnings, and the exit codes.

mod common;
use common::{file, run, run_with_stdin, SPEC_CONFIG};

#[test]
fn accepted_config_prints_normalized_policies() {
    let config = file(
        "normalized.json",
        r#"{"policies": [{"name": "api",
            "match": {"hosts": ["API.Example.com", "*.Example.net"]},
            "allow_origins": ["HTTPS://App.Example.com:443", "https://*.Example.com:8443", "http://LOCALHOST:*"],
            "allow_methods": ["put", "PATCH", "put"],
            "allow_headers": ["X-Token", "x-token", "Content-Type"],
            "max_age": 3600.0}]}"#,
    );
    let run = run(&["check", &config]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.has_line("ok: 1 policy, mode enforce");
    run.has_line("policy \"api\" (policies[0])");
    run.has_line("  match:                 hosts api.example.com, *.example.net; paths any");
    run.has_line("  allow_origins:         https://app.example.com, https://*.example.com:8443, http://localhost:*");
    run.has_line("  allow_methods:         PUT, PATCH (and GET, HEAD, POST, always allowed)");
    run.has_line("  allow_headers:         x-token, content-type");
    run.has_line("  max_age:               3600 s");
    run.has_line("  disallowed:            pass");
    assert_eq!(run.stderr, "");
}

#[test]
fn refused_config_prints_the_engine_messages() {
    let config = file(
        "refused.json",
        r#"{"mode": "enforce", "policies": [{"name": "api",
            "allow_origins": ["*", "http://app.example.com"],
            "allow_credentials": true,
            "max_age": 90000},
           {"name": "api", "allow_origins": ["https://app.example.com/"]}]}"#,
    );
    let run = run(&["check", &config]);
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, "");
    run.has_err_line("refused: 5 problems; the filter will not run with this config");
    run.has_err_line(
        r#"policy "api" allow_origins[0] "*": "*" allows every origin and must be the only entry"#,
    );
    run.has_err_line(r#"policy "api" allow_origins[1] "http://app.example.com": with allow_credentials, an http origin must be loopback (localhost, 127.0.0.0/8, [::1]): anyone on the network can impersonate it"#);
    run.has_err_line(
        r#"policy "api" max_age 90000: must be a whole number of seconds from 0 to 86400"#,
    );
    run.has_err_line(r#"policy "api" name "api": the name is already used by policies[0]"#);
    run.has_err_line(r#"policy "api" allow_origins[0] "https://app.example.com/": an origin has no path, not even "/""#);
}

#[test]
fn refused_config_as_json() {
    let run = run_with_stdin(
        &["check", "--json", "-"],
        r#"{"policies": [{"name": "api", "allow_origins": ["https://*.com"], "max_age": 90000}]}"#,
    );
    assert_eq!(run.code, 1);
    let report = run.json();
    assert_eq!(report["status"], "refused");
    let errors = report["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 2);
    assert_eq!(errors[0]["policy"], "policy \"api\"");
    assert_eq!(errors[0]["field"], "allow_origins[0]");
    assert_eq!(errors[0]["value"], "\"https://*.com\"");
    assert_eq!(
        errors[0]["problem"],
        "a wildcard may not cover a whole top-level domain"
    );
    assert_eq!(
        errors[1]["message"],
        "policy \"api\" max_age 90000: must be a whole number of seconds from 0 to 86400"
    );
}

#[test]
fn not_json_is_refused() {
    let run = run_with_stdin(&["check", "-"], "{not json");
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .lines()
            .any(|l| l.starts_with("not valid JSON: ") && l.ends_with("(line 1, column 2)")),
        "{}",
        run.stderr
    );
}

const UNWISE: &str = r#"{"policies": [
  {"name": "all", "allow_origins": ["https://app.example.com"]},
  {"name": "api", "match": {"paths": ["/api/*"]}, "allow_origins": ["https://app.example.com"]},
  {"name": "admin", "match": {"hosts": ["admin.example.com"]},
   "allow_origins": ["https://admin.example.com", "null", "http://localhost:3000"],
   "expose_headers": ["X-Request-Id", "Content-Type"],
   "max_age": 86400, "allow_private_network": true}
]}"#;

#[test]
fn warnings_name_policy_field_and_value() {
    let config = file("unwise.json", UNWISE);
    let run = run(&["check", &config]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.has_line(r#"warning: policy "api" match: this policy never applies: every host and path it matches is taken first by policy "all" (policies[0]) [unreachable_policy]"#);
    run.has_line(r#"warning: policy "admin" match: this policy never applies: every host and path it matches is taken first by policy "all" (policies[0]) [unreachable_policy]"#);
    run.has_line(r#"warning: policy "admin" max_age 86400: Chromium keeps a preflight answer at most 7200 s (2 hours) and asks again after that; only Firefox (up to 86400 s) honours more [max_age_above_browser_cap]"#);
    assert!(run.stdout.contains("allow_private_network true: Chromium put Private Network Access preflights on hold in favour of a permission prompt"));
    assert!(run
        .stdout
        .contains(r#"warning: policy "admin" allow_origins[1] "null": sandboxed iframes"#));
    run.has_line(r#"warning: policy "admin" expose_headers[1] "Content-Type": a CORS-safelisted response header: scripts can always read it, so listing it changes nothing [safelisted_expose_header]"#);
    assert!(
        !run.stdout.contains("loopback_origin_in_production"),
        "loopback origins are fine outside --production"
    );
}

#[test]
fn strict_turns_warnings_into_exit_code_3() {
    let config = file("unwise-strict.json", UNWISE);
    assert_eq!(run(&["check", "--strict", &config]).code, 3);
    let clean = file(
        "clean.json",
        r#"{"policies": [{"name": "api", "allow_origins": ["https://app.example.com"]}]}"#,
    );
    assert_eq!(run(&["check", "--strict", &clean]).code, 0);
}

#[test]
fn production_flags_loopback_origins() {
    let config = file("spec.json", SPEC_CONFIG);
    let relaxed = run(&["check", "--strict", &config]);
    assert_eq!(relaxed.code, 0, "{}", relaxed.stdout);
    let production = run(&["check", "--production", "--strict", "--json", &config]);
    assert_eq!(production.code, 3);
    let report = production.json();
    let warnings = report["warnings"].as_array().expect("warnings");
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    assert_eq!(warnings[0]["code"], "loopback_origin_in_production");
    assert_eq!(warnings[0]["policy"], "authenticated");
    assert_eq!(warnings[0]["index"], 1);
    assert_eq!(warnings[0]["field"], "allow_origins[2]");
    assert_eq!(warnings[0]["value"], "\"http://localhost:*\"");
}

#[test]
fn json_report_lists_policies_with_defaults() {
    let config = file("spec-json.json", SPEC_CONFIG);
    let run = run(&["check", "--json", &config]);
    assert_eq!(run.code, 0);
    let report = run.json();
    assert_eq!(report["status"], "ok");
    assert_eq!(report["mode"], "enforce");
    let public = &report["policies"][0];
    assert_eq!(public["name"], "public");
    assert_eq!(public["match"]["hosts"], serde_json::Value::Null);
    assert_eq!(public["match"]["paths"], serde_json::json!(["/public/*"]));
    assert_eq!(public["allow_origins"], serde_json::json!(["*"]));
    assert_eq!(public["allow_headers"], serde_json::json!([]));
    assert_eq!(public["allow_credentials"], false);
    assert_eq!(public["disallowed"], "pass");
    let authenticated = &report["policies"][1];
    assert_eq!(
        authenticated["allow_headers"],
        serde_json::json!(["content-type", "authorization", "x-csrf-token"])
    );
    assert_eq!(authenticated["max_age"], 3600);
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &[][..],
        &["check"][..],
        &["check", "a.json", "b.json"][..],
        &["check", "--verbose", "a.json"][..],
        &["frobnicate"][..],
    ] {
        let run = run(args);
        assert_eq!(run.code, 2, "{args:?}");
        assert!(run.stderr.contains("usage:"), "{args:?}: {}", run.stderr);
    }
    let missing = run(&["check", "/nonexistent/cors.json"]);
    assert_eq!(missing.code, 1);
    assert!(missing
        .stderr
        .starts_with("cors-filter: cannot read /nonexistent/cors.json"));
    assert_eq!(run(&["--help"]).code, 0);
}
