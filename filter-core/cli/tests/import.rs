//! `cors-filter import`: Envoy, Istio, Kong and Gateway API settings, written
//! as those projects document them, to policies that pass `check`, each
//! with its route's hosts and paths, in the order that keeps first-match
//! right; what was insecure, untranslatable or widening is flagged.

mod common;
use common::{file, run};
use serde_json::{json, Value};

/// Imports with `--json`, checks that the import succeeded and that the
/// config passes `check`, and returns the report.
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
        "imported config refused: {}{}",
        checked.stdout, checked.stderr
    );
    report
}

/// The finding about `source`, as (severity, message).
fn finding<'a>(report: &'a Value, source: &str) -> (&'a str, &'a str) {
    let found = findings(report)
        .into_iter()
        .find(|f| f["source"] == source)
        .unwrap_or_else(|| panic!("no finding for {source}: {:#}", report["findings"]));
    (
        found["severity"].as_str().expect("severity"),
        found["message"].as_str().expect("message"),
    )
}

fn findings(report: &Value) -> Vec<&Value> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .collect()
}

fn policy(report: &Value, index: usize) -> &Value {
    &report["config"]["policies"][index]
}

/// Each policy as `[name, hosts, paths]`, in order (`null`: any).
fn scopes(report: &Value) -> Value {
    let policies = report["config"]["policies"].as_array().expect("policies");
    let scope = |p: &Value| json!([p["name"], p["match"]["hosts"], p["match"]["paths"]]);
    Value::Array(policies.iter().map(scope).collect())
}

/// The policy's CORS rules, without its name and scope.
fn rules(policy: &Value) -> Value {
    let mut rules = policy.clone();
    let fields = rules.as_object_mut().expect("policy");
    fields.remove("name");
    fields.remove("match");
    // Defaults, so that expectations name only what the import set.
    fields.retain(|_, v| !matches!(v, Value::Bool(false)) && v != &json!([]) && v != "pass");
    rules
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
      - prefix: http://localhost
      allow_methods: "GET, PUT, DELETE, TRACE"
      allow_headers: "content-type, x-api-key, cookie"
      expose_headers: "x-request-id"
      max_age: "86400"
      allow_credentials: true
"#;

#[test]
fn envoy_virtual_host_policy_with_every_matcher_kind() {
    let report = import("envoy", "envoy.yaml", ENVOY, &["--name", "api"]);
    assert_eq!(scopes(&report), json!([["api", ["api.example.com"], null]]));
    let at = "virtual_hosts[0].typed_per_filter_config.envoy.filters.http.cors.";
    assert_eq!(
        rules(policy(&report, 0)),
        json!({
            "allow_origins": [
                "https://app.example.com",
                "https://*.example.com",
                "https://partner.example.org",
                "https://example.net",
                "https://*.example.net",
                "https://admin.example.com",
                "http://localhost:*"
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
    let (severity, message) = finding(&report, &format!("{at}allow_origin_string_match[7]"));
    assert_eq!(severity, "insecure");
    assert!(
        message.contains("imported as \"http://localhost:*\""),
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

/// Envoy's CORS sandbox (examples/cors/backend/front-envoy.yaml): a
/// virtual host policy, a route that turns CORS off, a route with its own
/// policy, and the catch-all route.
const ENVOY_SANDBOX: &str = r#"
static_resources:
  listeners:
  - address:
      socket_address: {address: 0.0.0.0, port_value: 10000}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress_http
          route_config:
            name: local_route
            virtual_hosts:
            - name: services
              domains: ["*"]
              typed_per_filter_config:
                envoy.filters.http.cors:
                  "@type": type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy
                  allow_origin_string_match:
                  - safe_regex:
                      regex: \*
                  filter_enabled:
                    default_value: {numerator: 100, denominator: HUNDRED}
              routes:
              - match: {prefix: "/cors/open"}
                route: {cluster: backend_service}
              - match: {prefix: "/cors/disabled"}
                route: {cluster: backend_service}
                typed_per_filter_config:
                  envoy.filters.http.cors:
                    "@type": type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy
                    filter_enabled:
                      default_value: {numerator: 0, denominator: HUNDRED}
              - match: {prefix: "/cors/restricted"}
                route: {cluster: backend_service}
                typed_per_filter_config:
                  envoy.filters.http.cors:
                    "@type": type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy
                    allow_origin_string_match:
                    - safe_regex: {regex: 'https://.*\.envoyproxy\.io'}
                    allow_methods: "GET"
              - match: {prefix: "/"}
                route: {cluster: backend_service}
          http_filters:
          - name: envoy.filters.http.cors
            typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors}
          - name: envoy.filters.http.router
            typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
"#;

#[test]
fn envoy_sandbox_routes_keep_their_order_and_the_disabled_route_is_widening() {
    // The catch-all route's policy would answer for /cors/disabled, which
    // Envoy served without CORS: that widens, so the import fails...
    let path = file("front-envoy.yaml", ENVOY_SANDBOX);
    let failed = run(&["import", "envoy", &path]);
    assert_eq!(failed.code, 1, "{}", failed.stderr);
    assert_eq!(failed.stdout, "");
    let routes = "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes";
    failed.has_err_line(&format!("widening: {routes}[1]: Envoy served these requests without CORS; the policy for {routes}[3] now answers them: list the route's paths in that policy's match or leave them out"));
    assert!(
        failed.stderr.contains("run again with --accept-widening"),
        "{}",
        failed.stderr
    );
    // ...unless accepted.
    let report = import(
        "envoy",
        "front-envoy.yaml",
        ENVOY_SANDBOX,
        &["--accept-widening"],
    );
    assert_eq!(
        scopes(&report),
        json!([
            ["services", null, ["/cors/open*"]],
            ["services-2", null, ["/cors/restricted*"]],
            ["services-3", null, null]
        ])
    );
    assert_eq!(policy(&report, 0)["allow_origins"], json!(["*"]));
    assert_eq!(
        policy(&report, 1)["allow_origins"],
        json!(["https://*.envoyproxy.io"])
    );
    assert_eq!(policy(&report, 1)["allow_methods"], json!(["GET"]));
    let vhost = "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].typed_per_filter_config.envoy.filters.http.cors.allow_origin_string_match[0]";
    assert_eq!(finding(&report, vhost).0, "insecure");
}

#[test]
fn envoy_virtual_hosts_by_specificity_and_route_conditions() {
    let config = r#"
virtual_hosts:
- name: wildcard
  domains: ["*.example.com", "example.com"]
  routes:
  - name: assets
    match: {path_separated_prefix: /assets}
    route: {cluster: cdn}
    typed_per_filter_config:
      envoy.filters.http.cors:
        "@type": type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy
        allow_origin_string_match: [{exact: "https://www.example.com"}]
- name: api
  domains: ["api.example.com:8443"]
  typed_per_filter_config:
    envoy.filters.http.cors:
      "@type": type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy
      allow_origin_string_match: [{exact: "https://app.example.com"}]
  routes:
  - match: {safe_regex: {regex: "/v1/.*"}, case_sensitive: false}
    route: {cluster: v1}
  - match:
      prefix: /v2/
      headers: [{name: x-canary, string_match: {exact: "1"}}]
    route: {cluster: v2}
"#;
    let path = file("vhosts.yaml", config);
    assert_eq!(run(&["import", "envoy", &path]).code, 1);
    let report = import("envoy", "vhosts.yaml", config, &["--accept-widening"]);
    // Exact hosts first, as Envoy picks the most specific domain.
    assert_eq!(
        scopes(&report),
        json!([
            ["assets", ["example.com"], ["/assets", "/assets/*"]],
            ["api", ["api.example.com"], ["/v1/*"]],
            ["api-2", ["api.example.com"], ["/v2/*"]],
            ["assets-2", ["*.example.com"], ["/assets", "/assets/*"]]
        ])
    );
    assert_eq!(policy(&report, 1)["match"]["ignore_case"], true);
    assert_eq!(
        finding(&report, "virtual_hosts[1].domains[0]").0,
        "widening"
    );
    assert_eq!(
        finding(&report, "virtual_hosts[1].routes[1].match.headers").0,
        "widening"
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
    assert_eq!(scopes(&report), json!([["imported", null, null]]));
    assert_eq!(
        rules(policy(&report, 0)),
        json!({"allow_origins": ["*"], "allow_methods": ["*"]})
    );
    // Protobuf JSON names are read in either spelling and reported in snake_case.
    let (severity, message) = finding(&report, "allow_origin_string_match[0]");
    assert_eq!(severity, "insecure");
    assert!(
        message.contains("matches the text \"*\", which Envoy takes as allowing every origin"),
        "{message}"
    );
    let credentials = findings(&report)
        .into_iter()
        .filter(|f| {
            f["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("every origin is allowed with credentials"))
        })
        .count();
    assert_eq!(credentials, 1, "{:#}", report["findings"]);
    assert!(finding(&report, "(the whole file)")
        .1
        .contains("applies to every host and path"));
}

/// Origin regexes: what translates, and what is refused with the reason.
#[test]
fn envoy_origin_regexes() {
    let translated: &[(&str, &[&str])] = &[
        (r"https://.+\.example\.com", &["https://*.example.com"]),
        (
            r"^https://([a-z0-9-]+\.)*example\.com$",
            &["https://*.example.com", "https://example.com"],
        ),
        (
            r"^https?://app\.example\.com$",
            &["http://app.example.com", "https://app.example.com"],
        ),
        (r"^http://localhost(:\d+)?$", &["http://localhost:*"]),
        (
            r"(?i)^https://APP\.example\.com$",
            &["https://app.example.com"],
        ),
        (
            r"^https://(a|b)\.example\.com$",
            &["https://a.example.com", "https://b.example.com"],
        ),
        (
            r"^https://pr-[a-z0-9-]+\.preview\.example\.com$",
            &["https://pr-*.preview.example.com"],
        ),
        (
            r"https://myapp-[a-z0-9-]+-team\.vercel\.app",
            &["https://myapp-*-team.vercel.app"],
        ),
    ];
    for (regex, entries) in translated {
        assert_eq!(
            policy_origins(&report_of(regex)),
            &json!(entries),
            "{regex}"
        );
    }
    // vercel.app is a public suffix: other Vercel users can get such names.
    let vercel = report_of(r"https://myapp-[a-z0-9-]+-team\.vercel\.app");
    let (severity, message) = finding(&vercel, "allow_origin_string_match[0]");
    assert_eq!(severity, "insecure");
    assert!(
        message.contains("spans the public suffix vercel.app"),
        "{message}"
    );
    let refused = [
        (
            r"^https://app.example.com$",
            "insecure",
            "an unescaped \".\" matches any character",
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
            r"^https://app\.example\.com:\d+$",
            "untranslatable",
            "does not match \"https://app.example.com\"",
        ),
        (r"^https://(?=x)", "untranslatable", "not a valid RE2 regex"),
    ];
    for (regex, severity, why) in refused {
        let policy = json!({"allow_origin_string_match": [
            {"exact": "https://kept.example.com"},
            {"safe_regex": {"regex": regex}}
        ]});
        let report = import("envoy", "regex.json", &policy.to_string(), &[]);
        assert_eq!(
            policy_origins(&report),
            &json!(["https://kept.example.com"]),
            "{regex}"
        );
        let (got, message) = finding(&report, "allow_origin_string_match[1]");
        assert_eq!(got, severity, "{regex}: {message}");
        assert!(message.contains(why), "{regex}: {message}");
    }
}

fn report_of(regex: &str) -> Value {
    let policy = json!({"allow_origin_string_match": [{"safe_regex": {"regex": regex}}]});
    import("envoy", "regex.json", &policy.to_string(), &[])
}

fn policy_origins(report: &Value) -> &Value {
    &report["config"]["policies"][0]["allow_origins"]
}

#[test]
fn globs_that_allow_more_than_the_regex_are_widening() {
    let cases = [
        (
            r"^https://pr-[0-9]+\.preview\.example\.com$",
            "https://pr-*.preview.example.com",
            "https://pr-a-b.preview.example.com",
        ),
        (
            r"^https://[a-z0-9-]+\.example\.com$",
            "https://*.example.com",
            "https://a.b.example.com",
        ),
    ];
    for (regex, entry, example) in cases {
        let policy =
            json!({"allow_origin_string_match": [{"safe_regex": {"regex": regex}}]}).to_string();
        let path = file("glob.json", &policy);
        let failed = run(&["import", "envoy", &path]);
        assert_eq!(failed.code, 1, "{regex}: {}", failed.stderr);
        let report = import("envoy", "glob.json", &policy, &["--accept-widening"]);
        assert_eq!(policy_origins(&report), &json!([entry]));
        let (severity, message) = finding(&report, "allow_origin_string_match[0]");
        assert_eq!(severity, "widening");
        assert!(
            message.contains(&format!(
                "also allows \"{example}\", which the regex does not match"
            )),
            "{message}"
        );
    }
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
fn istio_routes_in_order_with_their_uri_matches() {
    let report = import("istio", "vs.yaml", ISTIO, &[]);
    assert_eq!(
        scopes(&report),
        json!([
            ["api", ["api.example.com"], ["/api/*", "/graphql"]],
            ["legacy", ["api.example.com"], null]
        ])
    );
    assert_eq!(
        rules(policy(&report, 0)),
        json!({
            "allow_origins": ["https://app.example.com", "https://example.org", "https://*.example.org", "http://localhost:*"],
            "allow_methods": ["GET", "POST", "PATCH"],
            "allow_headers": ["authorization", "content-type"],
            "allow_credentials": true,
            "max_age": 86400
        })
    );
    assert_eq!(policy(&report, 1)["allow_origins"], json!(["*"]));
    let plain_http: Vec<&str> = findings(&report)
        .into_iter()
        .filter(|f| f["source"] == "spec.http[0].corsPolicy.allowOrigins[1]")
        .map(|f| f["message"].as_str().expect("message"))
        .collect();
    assert_eq!(plain_http.len(), 2, "{plain_http:?}");
    assert!(
        plain_http
            .iter()
            .all(|m| m.contains("an http origin must be loopback")),
        "{plain_http:?}"
    );
    assert_eq!(
        finding(&report, "spec.http[0].corsPolicy.allowOrigins[2]").0,
        "changed"
    );
    assert_eq!(
        finding(&report, "spec.http[1].corsPolicy.allowOrigins[0]").0,
        "insecure"
    );
}

/// The `corsPolicy` example of Istio's VirtualService reference.
#[test]
fn istio_reference_example() {
    let config = r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ratings-route
spec:
  hosts:
  - ratings.prod.svc.cluster.local
  http:
  - route:
    - destination:
        host: ratings.prod.svc.cluster.local
        subset: v1
    corsPolicy:
      allowOrigins:
      - exact: https://example.com
      allowMethods:
      - POST
      - GET
      allowCredentials: false
      allowHeaders:
      - X-Foo-Bar
      maxAge: "24h"
"#;
    let report = import("istio", "ratings.yaml", config, &[]);
    assert_eq!(
        scopes(&report),
        json!([["ratings-route", ["ratings.prod.svc.cluster.local"], null]])
    );
    assert_eq!(
        rules(policy(&report, 0)),
        json!({"allow_origins": ["https://example.com"], "allow_methods": ["POST", "GET"], "allow_headers": ["X-Foo-Bar"], "max_age": 86400})
    );
}

#[test]
fn istio_several_virtual_services_and_hosts_with_a_header_match() {
    let config = r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: frontend}
spec:
  hosts: ["*.apps.example.com", www.example.com]
  gateways: [public-gateway]
  http:
  - match:
    - headers:
        end-user: {exact: jason}
      uri: {prefix: /reviews}
    corsPolicy:
      allowOrigins: [{exact: "https://www.example.com"}]
    route: [{destination: {host: reviews}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: admin}
spec:
  hosts: [admin.example.com]
  http:
  - match: [{uri: {regex: "/admin/.*"}, ignoreUriCase: true}]
    corsPolicy:
      allowOrigins: [{exact: "https://admin.example.com"}]
    route: [{destination: {host: admin}}]
"#;
    let path = file("frontend.yaml", config);
    assert_eq!(run(&["import", "istio", &path]).code, 1);
    let report = import("istio", "frontend.yaml", config, &["--accept-widening"]);
    assert_eq!(
        scopes(&report),
        json!([
            ["frontend", ["www.example.com"], ["/reviews*"]],
            ["admin", ["admin.example.com"], ["/admin/*"]],
            ["frontend-2", ["*.apps.example.com"], ["/reviews*"]]
        ])
    );
    assert_eq!(policy(&report, 1)["match"]["ignore_case"], true);
    let (severity, message) = finding(
        &report,
        "VirtualService frontend: spec.http[0].match[0].headers",
    );
    assert_eq!(severity, "widening");
    assert!(
        message.contains("applies to requests the route did not take"),
        "{message}"
    );
}

const KONG: &str = r#"
_format_version: "3.0"
services:
- name: api
  url: http://upstream:8080
  routes:
  - name: api
    hosts: [api.example.com]
    paths: [/v1]
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
      credentials: true
      max_age: 3600
      preflight_continue: true
      exposed_headers: [X-Total]
"#;

#[test]
fn kong_service_plugin_on_its_route_with_regexes() {
    let report = import("kong", "kong.yaml", KONG, &[]);
    assert_eq!(
        scopes(&report),
        json!([["api", ["api.example.com"], ["/v1*"]]])
    );
    assert_eq!(
        rules(policy(&report, 0)),
        json!({
            "allow_origins": ["https://app.example.com", "https://*.example.com", "https://*.partner.net", "https://api.example.io"],
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
        message.contains("browsers refuse \"*\" when allow_credentials is true"),
        "{message}"
    );
}

/// A decK file: a global plugin, one naming its service, a route's own plugin, a service without
/// one, a regex path; Kong prefers the longest path.
#[test]
fn kong_deck_file_with_several_services_and_routes() {
    let config = r#"
_format_version: "3.0"
plugins:
- name: cors
  config:
    origins: ["https://app.example.com"]
    methods: [GET, POST]
    headers: [Content-Type]
- name: cors
  service: internal
  config:
    origins: ["https://intranet.example.com"]
services:
- name: orders
  url: http://orders:8080
  routes:
  - name: orders-v1
    hosts: [api.example.com]
    paths: [/v1/orders]
  - name: orders-admin
    hosts: [api.example.com]
    paths: [/v1/orders/admin]
    plugins:
    - name: cors
      config:
        origins: ["https://admin.example.com"]
        credentials: true
        methods: [GET]
        headers: [Authorization]
- name: catalog
  url: http://catalog:8080
  routes:
  - name: catalog
    paths: ["~/catalog/.*"]
- name: internal
  url: http://internal:8080
  routes:
  - name: internal
    paths: [/internal]
"#;
    let report = import("kong", "deck.yaml", config, &[]);
    assert_eq!(
        scopes(&report),
        json!([
            ["orders-admin", ["api.example.com"], ["/v1/orders/admin*"]],
            ["orders-v1", ["api.example.com"], ["/v1/orders*"]],
            ["catalog", null, ["/catalog/*"]],
            ["internal", null, ["/internal*"]]
        ])
    );
    assert_eq!(
        policy(&report, 0)["allow_origins"],
        json!(["https://admin.example.com"])
    );
    assert_eq!(policy(&report, 0)["allow_credentials"], true);
    assert_eq!(
        policy(&report, 1)["allow_origins"],
        json!(["https://app.example.com"])
    );
    assert_eq!(
        policy(&report, 2)["allow_origins"],
        json!(["https://app.example.com"])
    );
    // A top-level plugin that names its service applies to that service only.
    assert_eq!(
        policy(&report, 3)["allow_origins"],
        json!(["https://intranet.example.com"])
    );
}

#[test]
fn kong_route_with_methods_is_widening_and_a_plain_plugin_applies_everywhere() {
    let config = r#"
_format_version: "3.0"
services:
- name: api
  url: http://api:8080
  routes:
  - {name: read, hosts: [api.example.com], paths: [/items], methods: [GET, OPTIONS]}
  plugins:
  - {name: cors, config: {origins: ["https://app.example.com"]}}
"#;
    let path = file("methods.yaml", config);
    let failed = run(&["import", "kong", &path]);
    assert_eq!(failed.code, 1);
    failed.has_err_line("widening: services[0].routes[0].methods: the route also matched on this; a policy matches on host and path only, so it applies to requests the route did not take");
    let accepted = run(&["import", "--accept-widening", "kong", &path]);
    assert_eq!(accepted.code, 0, "{}", accepted.stderr);
    assert!(
        accepted
            .stderr
            .contains("widening: services[0].routes[0].methods"),
        "{}",
        accepted.stderr
    );

    let report = import(
        "kong",
        "kong-any.json",
        r#"{"name": "cors", "config": {"origins": ["*"], "credentials": true, "methods": ["GET", "POST"]}}"#,
        &[],
    );
    assert_eq!(scopes(&report), json!([["imported", null, null]]));
    assert_eq!(
        rules(policy(&report, 0)),
        json!({"allow_origins": ["*"], "allow_methods": ["GET", "POST"], "allow_headers": ["*", "Authorization"]})
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

/// The example of Gateway API's CORS guide.
#[test]
fn gateway_api_guide_example() {
    let config = r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: cors-allow-credentials
spec:
  parentRefs:
  - name: same-namespace
  rules:
  - matches:
    - path:
        type: PathPrefix
        value: /cors-behavior-creds-false
    backendRefs:
    - name: infra-backend-v1
      port: 8080
    filters:
    - cors:
        allowOrigins:
        - https://app.example
        allowCredentials: false
      type: CORS
"#;
    let report = import("gateway-api", "httproute.yaml", config, &[]);
    assert_eq!(
        scopes(&report),
        json!([[
            "cors-allow-credentials",
            null,
            ["/cors-behavior-creds-false", "/cors-behavior-creds-false/*"]
        ]])
    );
    // Gateway API sends Access-Control-Max-Age: 5 when maxAge is left out.
    assert_eq!(
        rules(policy(&report, 0)),
        json!({"allow_origins": ["https://app.example"], "max_age": 5})
    );
}

#[test]
fn gateway_api_rules_and_hostnames_by_specificity() {
    let config = r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: http-route-cors
spec:
  parentRefs: [{name: example-gateway}]
  hostnames: ["*.api.example.com", api.example.com]
  rules:
  - matches:
    - path: {type: PathPrefix, value: /}
    backendRefs: [{name: web, port: 80}]
  - matches:
    - path: {type: PathPrefix, value: /resource/foo}
    - path: {type: Exact, value: /login}
    filters:
    - type: CORS
      cors:
        allowOrigins: ["https://www.foo.com", "https://*.bar.com"]
        allowMethods: [GET, OPTIONS]
        allowHeaders: ["*"]
        exposeHeaders: [x-header-3, x-header-4]
        allowCredentials: true
        maxAge: 3600
    backendRefs: [{name: http-route-cors, port: 80}]
"#;
    let report = import("gateway-api", "cors.yaml", config, &[]);
    assert_eq!(
        scopes(&report),
        json!([
            ["http-route-cors", ["api.example.com"], ["/login"]],
            [
                "http-route-cors-2",
                ["api.example.com"],
                ["/resource/foo", "/resource/foo/*"]
            ],
            ["http-route-cors-3", ["*.api.example.com"], ["/login"]],
            [
                "http-route-cors-4",
                ["*.api.example.com"],
                ["/resource/foo", "/resource/foo/*"]
            ]
        ])
    );
    assert_eq!(
        rules(policy(&report, 0)),
        json!({
            "allow_origins": ["https://www.foo.com", "https://*.bar.com"],
            "allow_methods": ["GET", "OPTIONS"],
            "expose_headers": ["x-header-3", "x-header-4"],
            "allow_credentials": true,
            "max_age": 3600
        })
    );
    assert_eq!(
        finding(&report, "spec.rules[1].filters[0].cors.allowHeaders[0]").0,
        "changed"
    );
}

#[test]
fn gateway_api_header_match_widens_and_loose_origins_are_left_out() {
    let config = r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: canary}
spec:
  hostnames: [shop.example.com]
  rules:
  - matches:
    - path: {type: PathPrefix, value: /cart}
      headers: [{name: x-canary, value: "true"}]
    filters:
    - type: CORS
      cors:
        allowOrigins: ["https://*example.com", "https://shop.example.com"]
  - matches:
    - path: {type: PathPrefix, value: /cart}
    filters:
    - type: CORS
      cors:
        allowOrigins: ["*"]
        allowCredentials: true
"#;
    let path = file("canary.yaml", config);
    let failed = run(&["import", "--json", "gateway-api", &path]);
    assert_eq!(failed.code, 1);
    let report = failed.json();
    assert_eq!(report["config"], Value::Null);
    assert_eq!(
        finding(&report, "spec.rules[0].matches[0].headers").0,
        "widening"
    );
    let report = import("gateway-api", "canary.yaml", config, &["--accept-widening"]);
    assert_eq!(
        scopes(&report),
        json!([
            ["canary", ["shop.example.com"], ["/cart", "/cart/*"]],
            ["canary-2", ["shop.example.com"], ["/cart", "/cart/*"]]
        ])
    );
    assert_eq!(
        policy(&report, 0)["allow_origins"],
        json!(["https://shop.example.com"])
    );
    let (severity, message) = finding(&report, "spec.rules[0].filters[0].cors.allowOrigins[0]");
    assert_eq!(severity, "insecure");
    assert!(message.contains("\"https://evilexample.com\""), "{message}");
    assert_eq!(
        rules(policy(&report, 1)),
        json!({"allow_origins": ["*"], "max_age": 5})
    );
    assert_eq!(
        finding(&report, "spec.rules[1].filters[0].cors.allowOrigins[0]").0,
        "insecure"
    );
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
        config["policies"][0]["allow_origins"],
        json!(["https://app.example.com"])
    );
    run.has_err_line("changed: (the whole file): found without the route or host it belongs to: the policy applies to every host and path the plugin sees");
    assert_eq!(common::run(&["import", "--strict", "kong", &path]).code, 3);
}

#[test]
fn failures() {
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
    let not_cors = file("not-cors.yaml", "kind: Service\nspec: {}\n");
    for (kind, expected) in [
        (
            "istio",
            "no Istio CORS settings found: expected a VirtualService",
        ),
        (
            "gateway-api",
            "no Gateway API CORS settings found: expected an HTTPRoute",
        ),
    ] {
        let missing = run(&["import", kind, &not_cors]);
        assert_eq!(missing.code, 1);
        assert!(missing.stderr.contains(expected), "{}", missing.stderr);
    }
}
