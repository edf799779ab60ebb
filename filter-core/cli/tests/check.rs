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
fn refused_config_prints_every_engine_message() {
    let config = file(
        "refused.json",
        r#"{"mode": "shadow", "policies": [{"name": "api",
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
fn a_shape_error_names_its_place() {
    let run = run_with_stdin(&["check", "-"], r#"{"mode": "block", "policies": []}"#);
    assert_eq!(run.code, 1);
    run.has_err_line("refused: 1 problem; the filter will not run with this config");
    assert!(
        run.stderr
            .contains(r#"mode "block": must be "enforce" or "shadow" (line 1, column 16)"#),
        "{}",
        run.stderr
    );
}

#[test]
fn refused_config_as_json() {
    let run = run_with_stdin(
        &["check", "--json", "-"],
        r#"{"policies": [{"name": "api", "allow_origins": ["https://*.com", "null"], "allow_credentials": true}]}"#,
    );
    assert_eq!(run.code, 1);
    let report = run.json();
    assert_eq!(report["status"], "refused");
    let errors = report["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert_eq!(errors[0]["policy"], "policy \"api\"");
    assert_eq!(errors[0]["field"], "allow_origins[0]");
    assert_eq!(errors[0]["value"], "\"https://*.com\"");
    assert_eq!(
        errors[0]["problem"],
        "a wildcard may not cover a whole top-level domain"
    );
    assert_eq!(errors[1]["field"], "allow_origins[1]");
    let unknown = run_with_stdin(
        &["check", "--json", "-"],
        r#"{"policies": [{"name": "api", "allow_origins": ["*"], "surprise": 1}]}"#,
    )
    .json();
    assert_eq!(unknown["errors"][0]["policy"], "policy \"api\"");
    assert_eq!(unknown["errors"][0]["field"], "surprise");
}

#[test]
fn not_json_is_refused() {
    let run = run_with_stdin(&["check", "-"], "{not json");
    assert_eq!(run.code, 1);
    run.has_err_line("not valid JSON: key must be a string (line 1, column 2)");
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
        assert!(run.stderr.contains("Usage:"), "{args:?}: {}", run.stderr);
    }
    let missing = run(&["check", "/nonexistent/cors.json"]);
    assert_eq!(missing.code, 1);
    assert!(missing
        .stderr
        .starts_with("cors-filter: cannot read /nonexistent/cors.json"));
    assert_eq!(run(&["--help"]).code, 0);
}

/// A file of the repository's deploy/ directory, as users copy it.
fn deployed(path: &str) -> String {
    format!("{}/../../deploy/{path}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn reads_the_config_inside_envoy_yaml() {
    let run = run(&["check", &deployed("envoy/envoy.yaml")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.has_line("config: Envoy Wasm filter \"cors\" config.configuration");
    run.has_line("ok: 2 policies, mode enforce");
    run.has_line("policy \"authenticated\" (policies[1])");
    run.has_line("  disallowed:            reject");
}

#[test]
fn reads_the_plugin_config_of_an_istio_wasmplugin() {
    let run = run(&["check", "--json", &deployed("istio/wasmplugin.yaml")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.json();
    assert_eq!(
        report["source"],
        "Istio WasmPlugin \"cors\" spec.pluginConfig"
    );
    assert_eq!(report["status"], "ok");
    assert_eq!(report["policies"][1]["max_age"], 3600);
}

#[test]
fn reads_every_environment_of_a_wrangler_toml() {
    let path = deployed("cloudflare/wrangler.toml");
    let run = run(&["check", &path]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for env in ["development", "staging", "production"] {
        run.has_line(&format!("config: wrangler.toml env.{env} CORS_CONFIG"));
    }
    assert_eq!(
        run.stdout.matches("ok: 2 policies, mode enforce").count(),
        3
    );
    let staging = common::run(&["check", "--json", "--select", "staging", &path]).json();
    assert_eq!(staging["source"], "wrangler.toml env.staging CORS_CONFIG");
    assert_eq!(
        staging["policies"][1]["match"]["hosts"],
        serde_json::json!(["api-staging.example.com"])
    );
    let missing = common::run(&["check", "--select", "qa", &path]);
    assert_eq!(missing.code, 1);
    assert!(
        missing.stderr.contains("no config named \"qa\""),
        "{}",
        missing.stderr
    );
}

#[test]
fn an_embedded_config_is_refused_with_its_place() {
    let toml = file(
        "bad-wrangler.toml",
        "[env.prod.vars]\nCORS_CONFIG = '{\"policies\": [{\"name\": \"api\", \"allow_origins\": [\"https://*.com\"]}]}'\n",
    );
    let run = run(&["check", &toml]);
    assert_eq!(run.code, 1);
    run.has_line("config: wrangler.toml env.prod CORS_CONFIG");
    assert!(
        run.stderr
            .contains("a wildcard may not cover a whole top-level domain"),
        "{}",
        run.stderr
    );
    let envoy = file(
        "struct-config.yaml",
        "typed_config:\n  \"@type\": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm\n  config:\n    name: cors\n    configuration:\n      \"@type\": type.googleapis.com/google.protobuf.Struct\n      value: {policies: []}\n",
    );
    let run = common::run(&["check", &envoy]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("expected \"@type\": type.googleapis.com/google.protobuf.StringValue"),
        "{}",
        run.stderr
    );
    let neither = file("nothing.yaml", "kind: Service\nmetadata: {name: api}\n");
    let run = common::run(&["check", &neither]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("holds no plugin config"),
        "{}",
        run.stderr
    );
}

#[test]
fn schema_key_is_accepted() {
    let run = run_with_stdin(
        &["check", "-"],
        r#"{"$schema": "../deploy/schema/plugin-config.schema.json",
            "policies": [{"name": "api", "allow_origins": ["https://app.example.com"]}]}"#,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.has_line("ok: 1 policy, mode enforce");
}

#[test]
fn an_envoy_config_in_json_is_read_too() {
    let plugin = r#"{"policies": [{"name": "api", "allow_origins": ["https://app.example.com"]}]}"#;
    let envoy = serde_json::json!({"static_resources": {"listeners": [{"filter_chains": [{"filters": [{
        "name": "envoy.filters.http.wasm",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
            "config": {"name": "edge", "configuration": {
                "@type": "type.googleapis.com/google.protobuf.StringValue",
                "value": plugin}}}}]}]}]}});
    let run = run_with_stdin(&["check", "-"], &envoy.to_string());
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.has_line("config: Envoy Wasm filter \"edge\" config.configuration");
    run.has_line("ok: 1 policy, mode enforce");
}

#[test]
fn a_refused_config_outweighs_warnings_in_another() {
    let toml = file(
        "mixed-wrangler.toml",
        "[env.a.vars.CORS_CONFIG]\npolicies = [{name = \"a\", allow_origins = [\"null\"]}]\n\
         [env.b.vars.CORS_CONFIG]\npolicies = [{name = \"b\", allow_origins = []}]\n",
    );
    assert_eq!(run(&["check", "--strict", &toml]).code, 1);
    let reports = run(&["check", "--json", &toml]).json();
    assert_eq!(reports[0]["status"], "ok");
    assert_eq!(reports[0]["warnings"][0]["code"], "null_origin");
    assert_eq!(reports[1]["status"], "refused");
}

#[test]
fn a_wildcard_over_a_public_suffix_is_warned_about() {
    let run = run_with_stdin(
        &["check", "--json", "-"],
        r#"{"policies": [{"name": "pages", "allow_origins":
            ["https://*.github.io", "https://pr-*.vercel.app", "https://*.myteam.github.io"]}]}"#,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let warnings = run.json()["warnings"].clone();
    let flagged: Vec<(&str, &str)> = (warnings.as_array().expect("warnings").iter())
        .map(|w| {
            (
                w["field"].as_str().unwrap_or_default(),
                w["code"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        flagged,
        [
            ("allow_origins[0]", "wildcard_over_public_suffix"),
            ("allow_origins[1]", "wildcard_over_public_suffix")
        ]
    );
    assert!(warnings[1]["message"]
        .as_str()
        .is_some_and(|m| m.starts_with("vercel.app is a public suffix")));
}
