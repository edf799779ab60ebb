//! Properties over arbitrary valid configs and arbitrary requests: the
//! promises that must hold for every input, not only for the examples.
//!
//! Configs are valid by construction (random mixes of exact origins,
//! patterns, `*`, `null`, methods, headers, credentials on and off). Requests
//! mix arbitrary bytes with near-valid values: origins made from the
//! config's own entries, then often mutated. Whether an echoed origin was
//! allowed is judged by a reference matcher written here from
//! docs/behaviour.md, independently of the engine.

use filter_core::{Action, Config, Outcome, Request};
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{json, Value};

// ---------------------------------------------------------------- configs

#[derive(Debug, Clone)]
struct PolicySpec {
    paths: Option<Vec<&'static str>>,
    /// As written in the JSON: mixed case, default ports, patterns.
    origins: Vec<String>,
    methods: Option<Vec<&'static str>>,
    headers: Option<Vec<&'static str>>,
    expose: Option<Vec<&'static str>>,
    credentials: bool,
    private_network: bool,
    max_age: Option<u32>,
    reject: bool,
}

#[derive(Debug, Clone)]
struct ConfigSpec {
    shadow: bool,
    policies: Vec<PolicySpec>,
}

fn origin_entry() -> impl Strategy<Value = String> {
    let scheme = prop::sample::select(vec!["https", "http", "HTTPS", "chrome-extension"]);
    let host = prop::sample::select(vec![
        "app.example.com",
        "example.com",
        "a.example.org",
        "Shop.Example.IO",
        "localhost",
        "127.0.0.1",
        "[::1]",
    ]);
    let suffix = prop::sample::select(vec!["example.com", "Example.org", "internal.example.net"]);
    let port = prop::sample::select(vec!["", ":8443", ":443", ":80", ":3000"]);
    let any_port = prop::sample::select(vec!["", ":*"]);
    prop_oneof![
        4 => (scheme.clone(), host.clone(), port.clone()).prop_map(|(s, h, p)| format!("{s}://{h}{p}")),
        2 => (scheme.clone(), suffix, port.clone(), any_port).prop_map(|(s, x, p, a)| {
            format!("{s}://*.{x}{}", if a.is_empty() { p } else { a })
        }),
        1 => (scheme, host).prop_map(|(s, h)| format!("{s}://{h}:*")),
        1 => Just("null".to_string()),
    ]
}

/// A subset of `pool`, in pool order, maybe empty.
fn subset(pool: &'static [&'static str]) -> impl Strategy<Value = Vec<&'static str>> {
    prop::collection::vec(any::<bool>(), pool.len()).prop_map(move |picks| {
        pool.iter()
            .zip(picks)
            .filter_map(|(item, pick)| pick.then_some(*item))
            .collect()
    })
}

/// `None`, `["*"]`, or a subset of the pool.
fn list_or_star(pool: &'static [&'static str]) -> impl Strategy<Value = Option<Vec<&'static str>>> {
    prop_oneof![
        Just(None),
        Just(Some(vec!["*"])),
        subset(pool).prop_map(Some)
    ]
}

fn is_loopback_http(entry: &str) -> bool {
    let lower = entry.to_ascii_lowercase();
    ["http://localhost", "http://127.0.0.1", "http://[::1]"]
        .iter()
        .any(|l| {
            lower
                .strip_prefix(l)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(':'))
        })
}

fn policy_spec() -> impl Strategy<Value = PolicySpec> {
    let paths = prop::sample::select(vec![
        None,
        Some(vec!["/a/*"]),
        Some(vec!["/b", "/a/x"]),
        Some(vec!["*"]),
    ]);
    let origins = prop_oneof![
        1 => Just(vec!["*".to_string()]),
        5 => prop::collection::vec(origin_entry(), 1..6),
    ];
    let methods = prop_oneof![
        Just(None),
        Just(Some(vec!["*"])),
        subset(&["GET", "PUT", "put", "patch", "DELETE", "PURGE", "OPTIONS"])
            .prop_filter("allow_methods is not empty", |m| !m.is_empty())
            .prop_map(Some),
    ];
    let headers = prop_oneof![
        list_or_star(&["Content-Type", "X-CSRF-Token", "authorization", "X-Custom"]),
        Just(Some(vec!["*", "Authorization"])),
    ];
    let expose = list_or_star(&["X-Request-Id", "Content-Length"]);
    (
        (paths, origins, methods, headers, expose),
        (
            any::<bool>(),
            any::<bool>(),
            prop::option::of(0..=86400u32),
            any::<bool>(),
        ),
    )
        .prop_map(
            |(
                (paths, origins, methods, headers, expose),
                (credentials, private_network, max_age, reject),
            )| {
                let mut spec = PolicySpec {
                    paths,
                    origins,
                    methods,
                    headers,
                    expose,
                    credentials,
                    private_network,
                    max_age,
                    reject,
                };
                if spec.credentials {
                    keep_valid_with_credentials(&mut spec);
                }
                spec
            },
        )
}

/// Drops what `allow_credentials` refuses: `*`, `null`, plain http off loopback.
fn keep_valid_with_credentials(spec: &mut PolicySpec) {
    spec.origins.retain(|o| {
        let lower = o.to_ascii_lowercase();
        o != "*" && o != "null" && (!lower.starts_with("http://") || is_loopback_http(o))
    });
    if spec.origins.is_empty() {
        spec.origins.push("https://app.example.com".into());
    }
    if spec.methods.as_ref().is_some_and(|m| m.contains(&"*")) {
        spec.methods = None;
    }
    for list in [&mut spec.headers, &mut spec.expose].into_iter().flatten() {
        list.retain(|h| *h != "*");
    }
}

fn config_spec() -> impl Strategy<Value = ConfigSpec> {
    (
        prop::bool::weighted(0.2),
        prop::collection::vec(policy_spec(), 1..4),
    )
        .prop_map(|(shadow, policies)| ConfigSpec { shadow, policies })
}

impl ConfigSpec {
    fn to_json(&self) -> Vec<u8> {
        let policies: Vec<Value> = self
            .policies
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let mut policy = json!({
                    "name": format!("p{i}"),
                    "allow_origins": p.origins,
                    "allow_credentials": p.credentials,
                    "allow_private_network": p.private_network,
                    "disallowed": if p.reject { "reject" } else { "pass" },
                });
                let fields = [
                    ("allow_methods", p.methods.as_ref().map(|v| json!(v))),
                    ("allow_headers", p.headers.as_ref().map(|v| json!(v))),
                    ("expose_headers", p.expose.as_ref().map(|v| json!(v))),
                    ("max_age", p.max_age.map(|v| json!(v))),
                    ("match", p.paths.as_ref().map(|v| json!({ "paths": v }))),
                ];
                for (field, value) in fields {
                    if let Some(value) = value {
                        policy[field] = value;
                    }
                }
                policy
            })
            .collect();
        let mode = if self.shadow { "shadow" } else { "enforce" };
        serde_json::to_vec(&json!({ "mode": mode, "policies": policies })).unwrap()
    }

    fn compile(&self) -> Config {
        let json = self.to_json();
        Config::from_json(&json)
            .unwrap_or_else(|e| panic!("{}\nrefused: {e}", String::from_utf8_lossy(&json)))
    }
}

// ------------------------------------------------ the reference matcher

fn default_port(scheme: &str) -> Option<&'static str> {
    match scheme {
        "http" => Some("80"),
        "https" => Some("443"),
        _ => None,
    }
}

/// `host[:port]`, the host maybe a bracketed IPv6 literal.
fn split_port(authority: &str) -> (&str, Option<&str>) {
    let host_end = if authority.starts_with('[') {
        authority.find(']').map_or(0, |i| i + 1)
    } else {
        0
    };
    match authority[host_end..].find(':') {
        Some(i) => (
            &authority[..host_end + i],
            Some(&authority[host_end + i + 1..]),
        ),
        None => (authority, None),
    }
}

/// A configured entry as a browser would serialize it: lowercase, without
/// its scheme's default port.
fn normalize(entry: &str) -> String {
    let entry = entry.to_ascii_lowercase();
    let Some((scheme, rest)) = entry.split_once("://") else {
        return entry;
    };
    match split_port(rest) {
        (host, Some(port)) if Some(port) == default_port(scheme) => format!("{scheme}://{host}"),
        _ => entry.clone(),
    }
}

/// Whether `entry` allows the request's `Origin`, by behaviour.md: an exact
/// origin byte for byte; `*.suffix`, one or more lowercase labels before
/// the suffix; a port as written, none for the default, any for `:*`.
fn reference_allows(entry: &str, origin: &[u8]) -> bool {
    let Ok(origin) = std::str::from_utf8(origin) else {
        return false;
    };
    match entry {
        "*" => return true,
        "null" => return origin == "null",
        _ => {}
    }
    let entry = normalize(entry);
    let (scheme, rest) = entry.split_once("://").unwrap();
    let Some(requested) = origin
        .strip_prefix(scheme)
        .and_then(|o| o.strip_prefix("://"))
    else {
        return false;
    };
    let (host_pattern, port_pattern) = split_port(rest);
    let (host, port) = split_port(requested);
    let port_fits = match (port_pattern, port) {
        (_, Some(p)) if !is_serialized_port(scheme, p) => false,
        (Some("*"), _) => true,
        (pattern, port) => pattern == port,
    };
    let host_fits = match host_pattern.strip_prefix("*.") {
        None => host == host_pattern,
        Some(suffix) => host
            .strip_suffix(suffix)
            .and_then(|s| s.strip_suffix('.'))
            .is_some_and(|labels| {
                labels.split('.').all(|l| {
                    !l.is_empty()
                        && l.bytes().all(|b| {
                            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'
                        })
                })
            }),
    };
    port_fits && host_fits
}

fn is_serialized_port(scheme: &str, port: &str) -> bool {
    !port.starts_with('0')
        && port.bytes().all(|b| b.is_ascii_digit())
        && port.parse::<u16>().is_ok_and(|p| p > 0)
        && Some(port) != default_port(scheme)
}

// --------------------------------------------------------------- requests

/// How a test origin is made.
#[derive(Debug, Clone)]
enum OriginRecipe {
    Absent,
    Bytes(Vec<u8>),
    /// From one of the config's entries: `*.` filled with `label`, `:*`
    /// with `port`, then `mutation` applied.
    FromEntry {
        entry: Index,
        label: String,
        port: Option<u16>,
        mutation: Mutation,
    },
}

#[derive(Debug, Clone)]
enum Mutation {
    None,
    Uppercase(Index),
    AppendSlash,
    DefaultPort,
    InsertByte(Index, u8),
    Truncate(Index),
    Repeat(&'static str),
    TrailingDot,
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        6 => Just(Mutation::None),
        1 => any::<Index>().prop_map(Mutation::Uppercase),
        1 => Just(Mutation::AppendSlash),
        1 => Just(Mutation::DefaultPort),
        1 => (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::InsertByte(i, b)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
        1 => prop::sample::select(vec![",", ", ", " "]).prop_map(Mutation::Repeat),
        1 => Just(Mutation::TrailingDot),
    ]
}

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..40)
}

fn origin_recipe(mutations: BoxedStrategy<Mutation>) -> impl Strategy<Value = OriginRecipe> {
    prop_oneof![
        1 => Just(OriginRecipe::Absent),
        1 => bytes().prop_map(OriginRecipe::Bytes),
        6 => (
            any::<Index>(),
            "[a-z0-9_-]{1,8}(\\.[a-z0-9]{1,8})?",
            prop::option::of(1..=65535u16),
            mutations,
        )
            .prop_map(|(entry, label, port, mutation)| {
                OriginRecipe::FromEntry { entry, label, port, mutation }
            }),
    ]
}

impl OriginRecipe {
    fn make(&self, config: &ConfigSpec) -> Option<Vec<u8>> {
        let (entry, label, port, mutation) = match self {
            OriginRecipe::Absent => return None,
            OriginRecipe::Bytes(bytes) => return Some(bytes.clone()),
            OriginRecipe::FromEntry {
                entry,
                label,
                port,
                mutation,
            } => (entry, label, port, mutation),
        };
        let entries: Vec<&String> = config.policies.iter().flat_map(|p| &p.origins).collect();
        let mut origin = origin_for(entries[entry.index(entries.len())], label, *port).into_bytes();
        match mutation {
            Mutation::None => {}
            Mutation::Uppercase(i) => {
                let i = i.index(origin.len());
                origin[i] = origin[i].to_ascii_uppercase();
            }
            Mutation::AppendSlash => origin.push(b'/'),
            Mutation::DefaultPort => origin.extend_from_slice(b":443"),
            Mutation::InsertByte(i, b) => origin.insert(i.index(origin.len() + 1), *b),
            Mutation::Truncate(i) => origin.truncate(i.index(origin.len())),
            Mutation::Repeat(separator) => {
                origin = [origin.clone(), origin].join(separator.as_bytes())
            }
            Mutation::TrailingDot => origin.push(b'.'),
        }
        Some(origin)
    }
}

/// An origin that `entry` allows, as a browser would send it.
fn origin_for(entry: &str, label: &str, port: Option<u16>) -> String {
    let entry = match entry {
        "*" => "https://app.example.com".to_string(),
        "null" => return "null".into(),
        other => normalize(other),
    };
    let (scheme, rest) = entry.split_once("://").unwrap();
    let (host, entry_port) = split_port(rest);
    let host = match host.strip_prefix("*.") {
        Some(suffix) => format!("{label}.{suffix}"),
        None => host.to_string(),
    };
    let port = match (entry_port, port) {
        (Some("*"), Some(p)) if Some(p.to_string().as_str()) != default_port(scheme) => {
            format!(":{p}")
        }
        (Some("*"), _) | (None, _) => String::new(),
        (Some(p), _) => format!(":{p}"),
    };
    format!("{scheme}://{host}{port}")
}

#[derive(Debug, Clone)]
struct RequestSpec {
    method: Vec<u8>,
    authority: Vec<u8>,
    path: Vec<u8>,
    origin: OriginRecipe,
    method_asked: Option<Vec<u8>>,
    headers_asked: Option<Vec<u8>>,
    private_network: Option<Vec<u8>>,
    sec_fetch_site: Option<Vec<u8>>,
}

fn one_of(pool: &'static [&'static str]) -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        3 => prop::sample::select(pool).prop_map(|s| s.as_bytes().to_vec()),
        1 => bytes(),
    ]
    .boxed()
}

fn requested_headers() -> impl Strategy<Value = Vec<u8>> {
    let names = prop::collection::vec(
        prop::sample::select(vec![
            "content-type",
            "X-CSRF-Token",
            "authorization",
            "x-custom",
            "x-other",
            "a b",
        ]),
        0..4,
    );
    let separator = prop::sample::select(vec![",", ", ", " ,\t", ",,"]);
    prop_oneof![
        3 => (names, separator).prop_map(|(names, sep)| names.join(sep).into_bytes()),
        1 => bytes(),
    ]
}

fn request_spec() -> impl Strategy<Value = RequestSpec> {
    (
        one_of(&["OPTIONS", "OPTIONS", "GET", "POST", "PUT", "options"]),
        one_of(&["api.example.com", "API.Example.com:8080", "app.example.com"]),
        one_of(&["/a/x", "/b", "/", "/a/x?q=1"]),
        origin_recipe(mutation().boxed()),
        prop::option::of(one_of(&[
            "GET", "PUT", "put", "patch", "PATCH", "DELETE", "PURGE", "CONNECT", "",
        ])),
        prop::option::of(requested_headers()),
        prop::option::of(one_of(&["true", "false"])),
        prop::option::of(one_of(&["same-origin", "cross-site"])),
    )
        .prop_map(
            |(
                method,
                authority,
                path,
                origin,
                method_asked,
                headers_asked,
                private_network,
                sec_fetch_site,
            )| {
                RequestSpec {
                    method,
                    authority,
                    path,
                    origin,
                    method_asked,
                    headers_asked,
                    private_network,
                    sec_fetch_site,
                }
            },
        )
}

type Line = (Vec<u8>, Vec<u8>);

fn upstream_lines() -> impl Strategy<Value = Vec<Line>> {
    let name = one_of(&[
        "Vary",
        "vary",
        "Access-Control-Allow-Origin",
        "access-control-allow-credentials",
        "ACCESS-CONTROL-X",
        "Content-Type",
    ]);
    let value = one_of(&[
        "Origin",
        "*",
        "Accept-Encoding",
        "origin, x",
        "",
        "https://app.example.com",
    ]);
    prop::collection::vec((name, value), 0..5)
}

// ------------------------------------------------------------- properties

/// The response the client gets for a forwarded request: the upstream's
/// lines, less those removed, with those set replacing their name's lines.
fn edited(
    policy: &filter_core::Policy,
    allow_origin: Option<&str>,
    upstream: &[Line],
) -> Vec<Line> {
    let edits = policy.edit_response(
        allow_origin,
        upstream.iter().map(|(n, v)| (n.as_slice(), v.as_slice())),
    );
    let mut response: Vec<Line> = upstream
        .iter()
        .filter(|(n, _)| !edits.remove.iter().any(|r| r.eq_ignore_ascii_case(n)))
        .cloned()
        .collect();
    for (name, value) in edits.set.iter() {
        response.retain(|(n, _)| !n.eq_ignore_ascii_case(name.as_bytes()));
        response.push((name.into(), value.into()));
    }
    response
}

fn header<'r>(response: &'r [Line], name: &str) -> Option<&'r [u8]> {
    response
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
        .map(|(_, v)| v.as_slice())
}

fn varies_on_origin(response: &[Line]) -> bool {
    response
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(b"vary"))
        .any(|(_, v)| {
            v.split(|&b| b == b',')
                .map(|e| e.trim_ascii())
                .any(|e| e == b"*" || e.eq_ignore_ascii_case(b"origin"))
        })
}

proptest! {
    #[test]
    fn decisions_keep_their_promises(
        spec in config_spec(),
        request in request_spec(),
        upstream in upstream_lines(),
    ) {
        let config = spec.compile();
        let origin = request.origin.make(&spec);
        let Some(policy) = config.policy_for(&request.authority, &request.path) else {
            return Ok(());
        };
        let policy_spec = &spec.policies[policy.index()];
        let req = Request {
            method: &request.method,
            scheme: b"http",
            authority: &request.authority,
            origin: origin.as_deref(),
            access_control_request_method: request.method_asked.as_deref(),
            access_control_request_headers: request.headers_asked.as_deref(),
            access_control_request_private_network: request.private_network.as_deref(),
            sec_fetch_site: request.sec_fetch_site.as_deref(),
        };
        let decision = policy.decide(&req);
        prop_assert_eq!(decision.shadow, spec.shadow);
        let Some(action) = decision.to_carry_out() else {
            return Ok(());
        };
        let response: Vec<Line> = match action {
            Action::Respond { headers, .. } => {
                headers.iter().map(|(n, v)| (n.into(), v.into())).collect()
            }
            Action::Forward { allow_origin } => {
                prop_assert!(!req.is_preflight(), "a preflight in scope was forwarded");
                edited(policy, *allow_origin, &upstream)
            }
        };
        prop_assert!(!spec.shadow, "shadow mode changed the wire: {:?}", decision.action);
        for (name, _) in &response {
            let cors = name == b"vary" || name.starts_with(b"access-control-");
            prop_assert!(
                cors || upstream.iter().any(|(n, _)| n == name),
                "added a header that is not CORS: {:?}", String::from_utf8_lossy(name)
            );
        }
        let allow_origin = header(&response, "access-control-allow-origin");
        let credentials = header(&response, "access-control-allow-credentials").is_some();
        prop_assert!(!credentials || policy_spec.credentials, "credentials not allowed");
        match allow_origin {
            None => {}
            Some(b"*") => prop_assert!(!credentials, "* together with credentials"),
            Some(echoed) => {
                prop_assert_eq!(Some(echoed), origin.as_deref(), "not the request's origin");
                prop_assert!(
                    policy_spec.origins.iter().any(|e| reference_allows(e, echoed)),
                    "echoed {:?}, which no entry of {:?} allows",
                    String::from_utf8_lossy(echoed),
                    policy_spec.origins
                );
                prop_assert!(varies_on_origin(&response), "echo without Vary: Origin: {:?}", response);
            }
        }
    }

    /// The normalized model a config hands back runs exactly as the config:
    /// tools that show it show what the filter does.
    #[test]
    fn the_normalized_model_decides_the_same(
        spec in config_spec(),
        request in request_spec(),
    ) {
        let config = spec.compile();
        let normalized = config.plugin_config();
        let again = Config::compile(normalized).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(again.plugin_config(), normalized);
        let origin = request.origin.make(&spec);
        let req = Request {
            method: &request.method,
            scheme: b"http",
            authority: &request.authority,
            origin: origin.as_deref(),
            access_control_request_method: request.method_asked.as_deref(),
            access_control_request_headers: request.headers_asked.as_deref(),
            access_control_request_private_network: request.private_network.as_deref(),
            sec_fetch_site: request.sec_fetch_site.as_deref(),
        };
        let first = config.policy_for(&request.authority, &request.path);
        let second = again.policy_for(&request.authority, &request.path);
        prop_assert_eq!(first.map(|p| p.index()), second.map(|p| p.index()));
        if let (Some(first), Some(second)) = (first, second) {
            prop_assert_eq!(first.decide(&req), second.decide(&req));
        }
    }

    #[test]
    fn origins_made_from_an_entry_are_allowed(
        spec in config_spec(),
        recipe in origin_recipe(Just(Mutation::None).boxed()),
    ) {
        let config = spec.compile();
        let OriginRecipe::FromEntry { entry, .. } = &recipe else {
            return Ok(());
        };
        // The policy that holds the entry, found the way `make` finds it.
        let owners: Vec<usize> = spec
            .policies
            .iter()
            .enumerate()
            .flat_map(|(i, p)| p.origins.iter().map(move |_| i))
            .collect();
        let policy = &config.policies()[owners[entry.index(owners.len())]];
        let origin = recipe.make(&spec).unwrap();
        let request = Request { method: b"GET", origin: Some(&origin), ..Request::default() };
        let outcome = policy.decide(&request).outcome;
        prop_assert_eq!(outcome, Outcome::ActualAllowed, "{:?}", String::from_utf8_lossy(&origin));
    }

    #[test]
    fn any_bytes_are_refused_or_accepted_without_panic(
        document in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        let _ = Config::from_json(&document);
    }

    #[test]
    fn damaged_configs_are_refused_or_accepted_without_panic(
        spec in config_spec(),
        damage in prop::collection::vec((any::<Index>(), any::<u8>(), 0..3u8), 1..4),
    ) {
        let mut document = spec.to_json();
        for (at, byte, how) in damage {
            let i = at.index(document.len());
            match how {
                0 => document[i] = byte,
                1 => { document.remove(i); }
                _ => document.insert(i, byte),
            }
        }
        if let Err(errors) = Config::from_json(&document) {
            prop_assert!(errors.iter().count() > 0);
            prop_assert!(!errors.to_string().is_empty());
        }
    }

    #[test]
    fn edits_take_any_upstream_headers(
        spec in config_spec(),
        allow_origin in prop::option::of("[ -~]{0,20}"),
        upstream in prop::collection::vec(
            (one_of(&["Vary", "access-control-allow-origin", "Access-Control-X"]), bytes()),
            0..6,
        ),
    ) {
        let is_cors =
            |name: &[u8]| name.len() >= 15 && name[..15].eq_ignore_ascii_case(b"access-control-");
        let config = spec.compile();
        for policy in config.policies() {
            let edits = policy.edit_response(
                allow_origin.as_deref(),
                upstream.iter().map(|(n, v)| (n.as_slice(), v.as_slice())),
            );
            let cors_lines = upstream.iter().filter(|(n, _)| is_cors(n)).count();
            prop_assert_eq!(edits.remove.len(), cors_lines, "removes every upstream CORS line");
            prop_assert!(edits.remove.iter().all(|n| is_cors(n)), "removes only CORS lines");
            for (name, _) in edits.set.iter() {
                prop_assert!(name == "vary" || is_cors(name.as_bytes()), "sets {}", name);
            }
        }
    }
}

#[test]
fn the_reference_matcher_follows_behaviour_md() {
    let cases: &[(&str, &str, bool)] = &[
        ("https://app.example.com", "https://app.example.com", true),
        (
            "HTTPS://App.Example.com:443",
            "https://app.example.com",
            true,
        ),
        (
            "https://app.example.com",
            "https://app.example.com:443",
            false,
        ),
        ("https://*.example.com", "https://a.b.example.com", true),
        ("https://*.example.com", "https://example.com", false),
        ("https://*.example.com", "https://evilexample.com", false),
        ("https://*.example.com", "https://a.example.com:8443", false),
        (
            "https://*.example.com:*",
            "https://a.example.com:8443",
            true,
        ),
        ("https://*.example.com", "https://A.example.com", false),
        ("http://localhost:*", "http://localhost", true),
        ("http://localhost:*", "http://localhost:03000", false),
        ("http://localhost:*", "http://localhost:80", false),
        ("http://[::1]:3000", "http://[::1]:3000", true),
        ("null", "null", true),
        ("null", "NULL", false),
    ];
    for &(entry, origin, allowed) in cases {
        assert_eq!(
            reference_allows(entry, origin.as_bytes()),
            allowed,
            "{entry} {origin}"
        );
    }
}
