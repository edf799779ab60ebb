//! `cors-filter import`: Envoy, Istio and Kong settings to a policy that
//! passes `check`, with what was insecure or untranslatable flagged.

mod common;
use common::{file, run, Run};
use serde_json::{json, Value};

/// Imports with `--json`, checks that the config passes `check`, and
/// returns the report.
fn import(kind: &str, name: &str, text: &str, extra: &[&str]) -> Value {
    let path = file(name, text);
    let mut args = vec!["import", "--json"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&[kind, path.as_str()]);
    let run = run(&args);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let report = run.json();
    let config = serde_json::to_string(&report["config"]).expect("config");
    let checked = common::run_with_stdin(&["check", "-"], &config);
    assert_eq!(
        checked.code, 0,
        "imported config refused: {}",
        checked.stderr
    );
    report
}

/// The finding about `source`, as (severity, message).
fn finding<'a>(report: &'a Value, source: &str) -> (&'a str, &'a str) {
    let found = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["source"] == source)
        .unwrap_or_else(|| panic!("no finding for {source}: {:#}", report["findings"]));
    (
        found["severity"].as_str().expect("severity"),
        found["message"].as_str().expect("message"),
    )
}

fn policy(report: &Value) -> &Value {
    &report["config"]["policies"][0]
}

const ENVOY: &str = r#"
virtual_hosts:
- name: api
  domains: ["api.example.com"]
  typed_per_filter_config:
    envoy.filters.http.cors:
      "@type": type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy
      allow_origin_string_match:
      - exact: https://app.example.com
      - safe_regex:
          regex: '^https://.*\.example\.com$'
      - safe_regex:
          regex: 'https://.*example\.com'
      - prefix: https://partner.example.org
      - suffix: example.net
      - contains: trusted
      - exact: HTTPS://Admin.Example.com:443
      allow_methods: "GET, PUT, DELETE, TRACE"
      allow_headers: "content-type, x-api-key, cookie"
      expose_headers: "x-request-id"
      max_age: "86400"
      allow_credentials: true
"#;

#[test]
fn envoy_policy_with_every_matcher_kind() {
    let report = import("envoy", "envoy.yaml", ENVOY, &["--name", "api"]);
    let at = "virtual_hosts[0].typed_per_filter_config.envoy.filters.http.cors.";
    assert_eq!(
        policy(&report),
        &json!({
            "name": "api",
            "allow_origins": [
                "https://app.example.com",
                "https://*.example.com",
                "https://partner.example.org",
                "https://example.net",
                "https://*.example.net",
                "https://admin.example.com"
            ],
            "allow_methods": ["GET", "PUT", "DELETE"],
            "allow_headers": ["content-type", "x-api-key"],
            "expose_headers": ["x-request-id"],
            "allow_credentials": true,
            "max_age": 86400
        })
    );
    let (severity, message) = finding(&report, &format!("{at}allow_origin_string_match[2]"));
    assert_eq!(severity, "insecure");
    assert!(
        message.contains("no \"\\.\" between the wildcard and the domain"),
        "{message}"
    );
    assert!(
        message.ends_with("e.g. it matches \"https://evilexample.com\""),
        "{message}"
    );
    let (severity, message) = finding(&report, &format!("{at}allow_origin_string_match[3]"));
    assert_eq!(severity, "insecure");
    assert!(
        message.contains("also matches \"https://partner.example.org.evil.net\""),
        "{message}"
    );
    let (severity, message) = finding(&report, &format!("{at}allow_origin_string_match[4]"));
    assert_eq!(severity, "insecure");
    assert!(
        message.contains("also matches \"https://evilexample.net\""),
        "{message}"
    );
    let (severity, message) = finding(&report, &format!("{at}allow_origin_string_match[5]"));
    assert_eq!(severity, "untranslatable");
    assert!(
        message.starts_with("contains \"trusted\" is left out"),
        "{message}"
    );
    let (severity, message) = finding(&report, &format!("{at}allow_origin_string_match[6]"));
    assert_eq!(severity, "changed");
    assert!(
        message.contains("so it never matched; imported as \"https://admin.example.com\""),
        "{message}"
    );
    assert_eq!(
        finding(&report, &format!("{at}allow_methods[3]")),
        (
            "ignored",
            "\"TRACE\" is left out: is a forbidden method that browsers never send"
        )
    );
    assert_eq!(
        finding(&report, &format!("{at}allow_headers[2]")).0,
        "ignored"
    );
    assert_eq!(
        finding(&report, &format!("{at}forward_not_matching_preflights")).0,
        "changed"
    );
}

#[test]
fn envoy_json_in_camel_case_with_any_origin_and_credentials() {
    let report = import(
        "envoy",
        "envoy.json",
        r#"{"allowOriginStringMatch": [{"safeRegex": {"regex": ".*"}}],
            "allowMethods": "*", "allowCredentials": true, "forwardNotMatchingPreflights": false}"#,
        &[],
    );
    assert_eq!(
        policy(&report),
        &json!({"name": "imported", "allow_origins": ["*"], "allow_methods": ["*"]})
    );
    // Protobuf JSON names are read in either spelling and reported in snake_case.
    let (severity, message) = finding(&report, "allow_origin_string_match[0]");
    assert_eq!(severity, "insecure");
    assert!(
        message.contains("matches the text \"*\", which Envoy takes as allowing every origin"),
        "{message}"
    );
    let credentials: Vec<&Value> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| {
            f["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("every origin is allowed with credentials"))
        })
        .collect();
    assert_eq!(credentials.len(), 1, "{:#}", report["findings"]);
    assert_eq!(credentials[0]["severity"], "insecure");
}

const ISTIO: &str = r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts: [api.example.com]
  http:
  - name: api
    match:
    - uri:
        prefix: /api/
    - uri:
        exact: /graphql
    corsPolicy:
      allowOrigins:
      - exact: https://app.example.com
      - regex: '^https?://(.*\.)?example\.org$'
      - regex: 'https://[a-z0-9-]+\.preview\.example\.com'
      - prefix: "http://localhost:"
      allowMethods: [GET, POST, PATCH]
      allowHeaders: [authorization, content-type]
      maxAge: "24h"
      allowCredentials: true
  - name: legacy
    corsPolicy:
      allowOrigins:
      - regex: ".*"
"#;

#[test]
fn istio_route_with_uri_match() {
    let report = import("istio", "vs.yaml", ISTIO, &[]);
    assert_eq!(
        policy(&report),
        &json!({
            "name": "api",
            "match": {"paths": ["/api/*", "/graphql"]},
            "allow_origins": [
                "https://app.example.com",
                "https://example.org",
                "https://*.example.org",
                "http://localhost:*"
            ],
            "allow_methods": ["GET", "POST", "PATCH"],
            "allow_headers": ["authorization", "content-type"],
            "allow_credentials": true,
            "max_age": 86400
        })
    );
    let (severity, message) = finding(&report, "spec.http[0].corsPolicy.allowOrigins[2]");
    assert_eq!(severity, "untranslatable");
    assert!(message.contains("matches exactly one label in its subdomain part (a.preview.example.com but not a.b.preview.example.com)"), "{message}");
    let plain_http: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["source"] == "spec.http[0].corsPolicy.allowOrigins[1]")
        .map(|f| f["message"].as_str().expect("message"))
        .collect();
    assert_eq!(plain_http.len(), 2, "{plain_http:?}");
    assert!(plain_http[0]
        .starts_with("\"http://example.org\" is left out: a plain http origin with credentials"));
    assert_eq!(
        finding(&report, "spec.http[0].corsPolicy.allowOrigins[3]").0,
        "changed"
    );
    assert!(finding(&report, "VirtualService reviews: spec.http[1]")
        .1
        .contains("choose with --route legacy"));
}

#[test]
fn istio_route_chosen_by_name() {
    let report = import(
        "istio",
        "vs-legacy.yaml",
        ISTIO,
        &["--route", "legacy", "--name", "old"],
    );
    assert_eq!(
        policy(&report),
        &json!({"name": "old", "allow_origins": ["*"]})
    );
    assert_eq!(
        finding(&report, "spec.http[1].corsPolicy.allowOrigins[0]").0,
        "insecure"
    );
    let missing = run(&[
        "import",
        "--route",
        "nope",
        "istio",
        &file("vs-nope.yaml", ISTIO),
    ]);
    assert_eq!(missing.code, 1);
    assert!(
        missing
            .stderr
            .contains("no route named or numbered \"nope\" has a corsPolicy (found: api, legacy)"),
        "{}",
        missing.stderr
    );
}

const KONG: &str = r#"
_format_version: "3.0"
services:
- name: api
  url: http://upstream:8080
  plugins:
  - name: cors
    config:
      origins:
      - https://app.example.com
      - "https://.*\\.example\\.com"
      - ".*\\.partner\\.net"
      - "https://a\\.example\\.org|https://b\\.example\\.org"
      - "https://api.example.io"
      - example.io
      - "^https://[^.]+\\.example\\.dev$"
      credentials: true
      max_age: 3600
      preflight_continue: true
      exposed_headers: [X-Total]
"#;

#[test]
fn kong_declarative_file_with_regexes() {
    let report = import("kong", "kong.yaml", KONG, &["--name", "api"]);
    assert_eq!(
        policy(&report),
        &json!({
            "name": "api",
            "allow_origins": [
                "https://app.example.com",
                "https://*.example.com",
                "https://*.partner.net",
                "https://api.example.io"
            ],
            "allow_methods": ["GET", "HEAD", "PUT", "PATCH", "POST", "DELETE", "OPTIONS"],
            "allow_headers": ["Authorization"],
            "expose_headers": ["X-Total"],
            "allow_credentials": true,
            "max_age": 3600
        })
    );
    let at = "services[0].plugins[0].config.";
    let (severity, message) = finding(&report, &format!("{at}origins[2]"));
    assert_eq!(severity, "changed");
    assert!(
        message.contains("Kong matched it against the host alone"),
        "{message}"
    );
    let (severity, message) = finding(&report, &format!("{at}origins[3]"));
    assert_eq!(severity, "insecure");
    assert!(message.contains("not anchored at the end"), "{message}");
    assert!(
        message.ends_with("e.g. it matches \"https://a.example.org.evil.net\""),
        "{message}"
    );
    let (severity, message) = finding(&report, &format!("{at}origins[5]"));
    assert_eq!(severity, "untranslatable");
    assert!(message.contains("has no scheme"), "{message}");
    let (severity, message) = finding(&report, &format!("{at}origins[6]"));
    assert_eq!(severity, "untranslatable");
    assert!(message.contains("exactly one label"), "{message}");
    assert_eq!(
        finding(&report, &format!("{at}preflight_continue")).0,
        "changed"
    );
    let (severity, message) = finding(
        &report,
        &format!("{at}headers (Kong echoes the requested headers)"),
    );
    assert_eq!(severity, "changed");
    assert!(
        message.starts_with("\"*\" in allow_headers cannot go with allow_credentials"),
        "{message}"
    );
}

#[test]
fn kong_any_origin_with_credentials_is_insecure() {
    let report = import(
        "kong",
        "kong-any.json",
        r#"{"name": "cors", "config": {"origins": ["*"], "credentials": true, "methods": ["GET", "POST"]}}"#,
        &[],
    );
    assert_eq!(
        policy(&report),
        &json!({"name": "imported", "allow_origins": ["*"], "allow_methods": ["GET", "POST"], "allow_headers": ["*", "Authorization"]})
    );
    let (severity, message) = finding(&report, "config.origins[0]");
    assert_eq!(severity, "insecure");
    assert!(
        message.starts_with(
            "every origin is allowed with credentials (config.credentials): Kong echoes the Origin"
        ),
        "{message}"
    );
}

#[test]
fn untranslatable_regexes_say_why() {
    let cases = [
        (
            r"^https://app.example.com$",
            "insecure",
            "unescaped \".\", which matches any character",
        ),
        (
            r"^https://app\.example\.com.*$",
            "insecure",
            "matches anything after the host, e.g. it matches \"https://app.example.com.evil.net\"",
        ),
        (
            r".*\.example\.com",
            "insecure",
            "does not start with a fixed scheme",
        ),
        (
            r"^https://App\.example\.com$",
            "untranslatable",
            "uppercase",
        ),
        (
            r"^https://[a-z]+\.example\.com$",
            "untranslatable",
            "allows only [abcdefghijklmnopqrstuvwxyz]",
        ),
        (
            r"^https://app\.example\.com:\d+$",
            "untranslatable",
            "requires a port",
        ),
        (r"^https://(?=x)", "untranslatable", "not a valid RE2 regex"),
    ];
    for (regex, severity, why) in cases {
        let policy = json!({"allow_origin_string_match": [
            {"exact": "https://kept.example.com"},
            {"safe_regex": {"regex": regex}}
        ]});
        let report = import("envoy", "regex.json", &policy.to_string(), &[]);
        assert_eq!(
            report["config"]["policies"][0]["allow_origins"],
            json!(["https://kept.example.com"]),
            "{regex}"
        );
        let (got, message) = finding(&report, "allow_origin_string_match[1]");
        assert_eq!(got, severity, "{regex}: {message}");
        assert!(message.contains(why), "{regex}: {message}");
    }
}

#[test]
fn plain_output_is_the_config_and_findings_go_to_stderr() {
    let path = file(
        "kong-plain.json",
        r#"{"origins": ["https://app.example.com"], "methods": ["GET"], "headers": ["X-Token"]}"#,
    );
    let run = run(&["import", "kong", &path]);
    assert_eq!(run.code, 0);
    let config: Value = serde_json::from_str(&run.stdout).expect("stdout is the config");
    assert_eq!(
        config,
        json!({"policies": [{"name": "imported", "allow_origins": ["https://app.example.com"], "allow_methods": ["GET"], "allow_headers": ["X-Token"]}]})
    );
    assert_eq!(run.stderr, "");
    assert_eq!(common::run(&["import", "--strict", "kong", &path]).code, 0);
}

#[test]
fn strict_exit_code_and_failures() {
    let flagged = file(
        "flagged.json",
        r#"{"allow_origin_string_match": [{"prefix": "https://app.example.com"}]}"#,
    );
    let strict: Run = run(&["import", "--strict", "envoy", &flagged]);
    assert_eq!(strict.code, 3);
    assert!(strict.stderr.lines().any(|l| l.starts_with("insecure: allow_origin_string_match[0]: prefix \"https://app.example.com\" also matches")), "{}", strict.stderr);
    let nothing = file(
        "nothing.json",
        r#"{"allow_origin_string_match": [{"contains": "example"}]}"#,
    );
    let failed = run(&["import", "--json", "envoy", &nothing]);
    assert_eq!(failed.code, 1);
    let report = failed.json();
    assert_eq!(report["config"], Value::Null);
    assert_eq!(
        report["error"],
        "no origin of the Envoy settings could be carried over, so there is no policy to write"
    );
    assert_eq!(report["findings"][0]["severity"], "untranslatable");
    assert_eq!(run(&["import", "nginx", &nothing]).code, 2);
    assert_eq!(run(&["import", "--route", "x", "envoy", &nothing]).code, 2);
    let not_cors = file("not-cors.yaml", "kind: Service\nspec: {}\n");
    let missing = run(&["import", "istio", &not_cors]);
    assert_eq!(missing.code, 1);
    assert!(
        missing.stderr.contains("no Istio corsPolicy found"),
        "{}",
        missing.stderr
    );
}
