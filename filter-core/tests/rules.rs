//! Every decision rule of docs/configuration.md and docs/behaviour.md, one table per rule
//! family, through the public API only. Each row has a name; a failing table
//! lists every row that failed, by name, before it fails.

mod common;

use common::{table, Rows};
use filter_core::{Action, Config, Decision, Denial, Outcome, Request};

const APP: &str = "https://app.example.com";
const EVIL: &str = "https://evil.example.net";

// Request header names, as the rows write them.
const ORIGIN: &str = "Origin";
const ACRM: &str = "Access-Control-Request-Method";
const ACRH: &str = "Access-Control-Request-Headers";
const ACRPN: &str = "Access-Control-Request-Private-Network";
const SITE: &str = "Sec-Fetch-Site";

const VARY_PREFLIGHT: &str =
    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";
const VARY_PREFLIGHT_PNA: &str = "Origin, Access-Control-Request-Method, \
    Access-Control-Request-Headers, Access-Control-Request-Private-Network";

/// One config for the decision tables; each policy has its own path prefix.
const CONFIG: &str = r#"{"policies": [
    {"name": "api", "match": {"paths": ["/api/*"]},
     "allow_origins": ["https://app.example.com", "https://App.Example.org:443",
                       "https://*.example.com", "http://localhost:*",
                       "https://*.internal.example.net:8443", "http://[::1]:3000",
                       "HTTPS://Shop.Example.io:8443", "null"],
     "allow_methods": ["GET", "POST", "put", "PATCH", "purge"],
     "allow_headers": ["Content-Type", "X-CSRF-Token"],
     "expose_headers": ["X-Request-Id", "X-RateLimit-Remaining"],
     "max_age": 600},
    {"name": "defaults", "match": {"paths": ["/min/*"]},
     "allow_origins": ["https://app.example.com"]},
    {"name": "creds", "match": {"paths": ["/creds/*"]},
     "allow_origins": ["https://app.example.com", "http://localhost:8080"],
     "allow_methods": ["DELETE"],
     "allow_headers": ["Authorization", "*-not-a-star"],
     "expose_headers": ["X-Request-Id"],
     "allow_credentials": true, "allow_private_network": true, "max_age": 0},
    {"name": "reject", "match": {"paths": ["/reject/*"]},
     "allow_origins": ["https://app.example.com"], "disallowed": "reject"},
    {"name": "star", "match": {"paths": ["/star/*"]},
     "allow_origins": ["*"], "allow_methods": ["*"], "allow_headers": ["*"],
     "expose_headers": ["*"]},
    {"name": "star-auth", "match": {"paths": ["/star-auth/*"]},
     "allow_origins": ["https://app.example.com"],
     "allow_headers": ["*", "Authorization"]}
]}"#;

fn config(json: &str) -> Config {
    Config::from_json(json.as_bytes()).unwrap_or_else(|e| panic!("config refused:\n{e}"))
}

/// Header lines, (name, value).
type Lines<'a> = &'a [(&'a str, &'a str)];

/// `Ok` when equal, else a message with both.
fn same<T: PartialEq + std::fmt::Debug>(got: T, want: T) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("\n   got {got:?}\n  want {want:?}"))
    }
}

/// A request to `http://api.example.com`, with the header lines given.
fn request<'a>(method: &'a str, headers: &[(&str, &'a str)]) -> Request<'a> {
    let mut request = Request {
        method: method.as_bytes(),
        scheme: b"http",
        authority: b"api.example.com",
        ..Request::default()
    };
    for &(name, value) in headers {
        let slot = match name {
            ORIGIN => &mut request.origin,
            ACRM => &mut request.access_control_request_method,
            ACRH => &mut request.access_control_request_headers,
            ACRPN => &mut request.access_control_request_private_network,
            SITE => &mut request.sec_fetch_site,
            other => panic!("the engine does not read {other}"),
        };
        *slot = Some(value.as_bytes());
    }
    request
}

/// What the adapter is told to do, owned, so that rows can state it.
#[derive(Debug, Clone, PartialEq)]
enum Answer {
    Respond(u16, Vec<(String, String)>),
    Forward(Option<String>),
    /// Shadow mode holds back this action: forward, leave the response alone.
    HeldBack(Box<Answer>),
}

fn respond(status: u16, headers: &[(&str, &str)]) -> Answer {
    let headers = headers
        .iter()
        .map(|&(n, v)| (n.to_string(), v.to_string()))
        .collect();
    Answer::Respond(status, headers)
}

fn forward(allow_origin: Option<&str>) -> Answer {
    Answer::Forward(allow_origin.map(String::from))
}

impl From<&Action<'_>> for Answer {
    fn from(action: &Action<'_>) -> Answer {
        match action {
            Action::Respond { status, headers } => {
                respond(*status, &headers.iter().collect::<Vec<_>>())
            }
            Action::Forward { allow_origin } => forward(*allow_origin),
        }
    }
}

impl From<&Decision<'_>> for Answer {
    fn from(decision: &Decision<'_>) -> Answer {
        match decision.to_carry_out() {
            Some(action) => action.into(),
            None => Answer::HeldBack(Box::new((&decision.action).into())),
        }
    }
}

/// A request on a path (which picks the policy of [`CONFIG`]) and what must
/// be decided.
struct Case<'a> {
    path: &'a str,
    method: &'a str,
    headers: &'a [(&'a str, &'a str)],
    outcome: Outcome,
    answer: Answer,
}

fn decide<'c>(
    config: &'c Config,
    path: &str,
    method: &'c str,
    headers: &[(&str, &'c str)],
) -> Result<Decision<'c>, String> {
    let policy = config
        .policy_for(b"api.example.com", path.as_bytes())
        .ok_or_else(|| format!("no policy for {path}"))?;
    Ok(policy.decide(&request(method, headers)))
}

fn check_cases(json: &str, cases: &[(&str, Case)]) {
    let config = config(json);
    table(cases, |case| {
        let decision = decide(&config, case.path, case.method, case.headers)?;
        same(
            (decision.outcome, Answer::from(&decision)),
            (case.outcome, case.answer.clone()),
        )
    });
}

/// The value of one header in an edge answer, if the request was answered.
fn answered_header(decision: &Decision, name: &str) -> Option<String> {
    match &decision.action {
        Action::Respond { headers, .. } => headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_string()),
        _ => None,
    }
}

fn case<'a>(
    path: &'a str,
    method: &'a str,
    headers: &'a [(&'a str, &'a str)],
    outcome: Outcome,
    answer: Answer,
) -> Case<'a> {
    Case {
        path,
        method,
        headers,
        outcome,
        answer,
    }
}

#[test]
fn scope_picks_the_first_policy_that_fits() {
    let config = config(
        r#"{"policies": [
        {"name": "exact", "match": {"hosts": ["api.example.com"], "paths": ["/exact"]},
         "allow_origins": ["*"]},
        {"name": "prefix", "match": {"hosts": ["api.example.com"], "paths": ["/api/*"]},
         "allow_origins": ["*"]},
        {"name": "subdomains", "match": {"hosts": ["*.Example.NET"]}, "allow_origins": ["*"]},
        {"name": "every-path", "match": {"hosts": ["all.example.org"], "paths": ["*"]},
         "allow_origins": ["*"]},
        {"name": "paths-only", "match": {"paths": ["/health", "/v1/*"]}, "allow_origins": ["*"]},
        {"name": "shadowed", "match": {"paths": ["/v1/*"]}, "allow_origins": ["*"]}
    ]}"#,
    );
    // (authority, path, the policy that applies)
    #[rustfmt::skip]
    let rows: &Rows<(&str, &str, Option<&str>)> = &[
        ("exact host and path",                      ("api.example.com", "/exact", Some("exact"))),
        ("host compared case-insensitively",         ("API.Example.COM", "/exact", Some("exact"))),
        ("port ignored",                             ("api.example.com:8443", "/exact", Some("exact"))),
        ("query ignored",                            ("api.example.com", "/exact?x=1", Some("exact"))),
        ("fragment ignored",                         ("api.example.com", "/exact#top", Some("exact"))),
        ("an exact path is not a prefix",            ("api.example.com", "/exact/more", None)),
        ("path compared byte for byte",              ("api.example.com", "/Exact", None)),
        ("a prefix matches its own slash",           ("api.example.com", "/api/", Some("prefix"))),
        ("a prefix matches deeper",                  ("api.example.com", "/api/a/b?c", Some("prefix"))),
        ("a prefix does not match without its slash", ("api.example.com", "/api", None)),
        ("paths are normalized before matching",     ("api.example.com", "/x/../api/y", Some("prefix"))),
        ("an encoded slash is a slash",              ("api.example.com", "/api%2Fy", Some("prefix"))),
        ("a double-encoded dot is not a dot",        ("api.example.com", "/x/%252e%252e/api/y", None)),
        ("other host, same path",                    ("www.example.com", "/api/x", None)),
        ("a subdomain of the suffix",                ("a.example.net", "/anything", Some("subdomains"))),
        ("any depth of subdomain, any port",         ("a.b.example.net:81", "/", Some("subdomains"))),
        ("never the bare suffix",                    ("example.net", "/", None)),
        ("not a longer name ending like it",         ("badexample.net", "/", None)),
        ("* matches every path",                     ("all.example.org", "/anything", Some("every-path"))),
        ("* matches the empty path",                 ("all.example.org", "", Some("every-path"))),
        ("no hosts: any host",                       ("whatever.test", "/health", Some("paths-only"))),
        ("the first fitting policy wins",            ("whatever.test", "/v1/x", Some("paths-only"))),
        ("nothing fits",                             ("whatever.test", "/v2/x", None)),
        ("a malformed authority fits no host list",  ("\u{ff}", "/exact", None)),
    ];
    table(rows, |&(authority, path, want)| {
        let got = config.policy_for(authority.as_bytes(), path.as_bytes());
        same(got.map(|p| p.name()), want)
    });
    let order: Vec<(usize, &str)> = config
        .policies()
        .iter()
        .map(|p| (p.index(), p.name()))
        .collect();
    assert_eq!(order[5], (5, "shadowed"));
}

#[test]
fn preflight_recognition_and_check_order() {
    use Outcome::*;
    let allowed_get = respond(
        204,
        &[
            ("access-control-allow-origin", APP),
            (
                "access-control-allow-methods",
                "GET, POST, PUT, PATCH, purge",
            ),
            ("access-control-max-age", "600"),
            ("vary", VARY_PREFLIGHT),
        ],
    );
    let denied = respond(403, &[("vary", VARY_PREFLIGHT)]);
    let denied_pna = respond(403, &[("vary", VARY_PREFLIGHT_PNA)]);
    let all_wrong = &[(ORIGIN, EVIL), (ACRM, "DELETE"), (ACRH, "x-nope")];
    #[rustfmt::skip]
    let rows = [
        ("OPTIONS with Origin and request method is a preflight",
            case("/api/x", "OPTIONS", &[(ORIGIN, APP), (ACRM, "GET")], PreflightAllowed, allowed_get)),
        ("OPTIONS without request method is actual",
            case("/api/x", "OPTIONS", &[(ORIGIN, APP)], ActualAllowed, forward(Some(APP)))),
        ("OPTIONS without Origin is actual",
            case("/api/x", "OPTIONS", &[(ACRM, "PUT")], ActualNoOrigin, forward(None))),
        ("lowercase options is not a preflight",
            case("/api/x", "options", &[(ORIGIN, APP), (ACRM, "PUT")], ActualAllowed, forward(Some(APP)))),
        ("GET with preflight headers is actual",
            case("/api/x", "GET", &[(ORIGIN, APP), (ACRM, "PUT"), (ACRH, "x-nope")],
                 ActualAllowed, forward(Some(APP)))),
        ("origin is checked before method",
            case("/api/x", "OPTIONS", all_wrong, PreflightDeniedOrigin, denied.clone())),
        ("method is checked before headers",
            case("/api/x", "OPTIONS", &[(ORIGIN, APP), (ACRM, "DELETE"), (ACRH, "x-nope")],
                 PreflightDeniedMethod, denied.clone())),
        ("headers are checked last",
            case("/api/x", "OPTIONS", &[(ORIGIN, APP), (ACRM, "PUT"), (ACRH, "x-nope")],
                 PreflightDeniedHeaders, denied.clone())),
        ("a denied preflight under private network names it in Vary",
            case("/creds/x", "OPTIONS", all_wrong, PreflightDeniedOrigin, denied_pna)),
        ("a preflight in a reject policy is answered like any other",
            case("/reject/x", "OPTIONS", all_wrong, PreflightDeniedOrigin, denied)),
    ];
    check_cases(CONFIG, &rows);
}

#[test]
fn preflight_answers() {
    use Outcome::*;
    #[rustfmt::skip]
    let rows = [
        ("full answer: origin, methods, requested headers, max age, Vary",
            case("/api/x", "OPTIONS", &[(ORIGIN, APP), (ACRM, "PUT"), (ACRH, "content-type,x-csrf-token")],
                 PreflightAllowed, respond(204, &[
                     ("access-control-allow-origin", APP),
                     ("access-control-allow-methods", "GET, POST, PUT, PATCH, purge"),
                     ("access-control-allow-headers", "content-type,x-csrf-token"),
                     ("access-control-max-age", "600"),
                     ("vary", VARY_PREFLIGHT),
                 ]))),
        ("the request's origin is echoed, not the pattern",
            case("/api/x", "OPTIONS", &[(ORIGIN, "https://a.b.example.com"), (ACRM, "GET")],
                 PreflightAllowed, respond(204, &[
                     ("access-control-allow-origin", "https://a.b.example.com"),
                     ("access-control-allow-methods", "GET, POST, PUT, PATCH, purge"),
                     ("access-control-max-age", "600"),
                     ("vary", VARY_PREFLIGHT),
                 ]))),
        ("defaults: methods GET, HEAD, POST; no max age; no allow-headers",
            case("/min/x", "OPTIONS", &[(ORIGIN, APP), (ACRM, "POST")],
                 PreflightAllowed, respond(204, &[
                     ("access-control-allow-origin", APP),
                     ("access-control-allow-methods", "GET, HEAD, POST"),
                     ("vary", VARY_PREFLIGHT),
                 ]))),
        ("credentials, max age 0, private network asked and allowed",
            case("/creds/x", "OPTIONS",
                 &[(ORIGIN, APP), (ACRM, "DELETE"), (ACRH, "Authorization"), (ACRPN, "true")],
                 PreflightAllowed, respond(204, &[
                     ("access-control-allow-origin", APP),
                     ("access-control-allow-credentials", "true"),
                     ("access-control-allow-methods", "DELETE"),
                     ("access-control-allow-headers", "authorization"),
                     ("access-control-max-age", "0"),
                     ("access-control-allow-private-network", "true"),
                     ("vary", VARY_PREFLIGHT_PNA),
                 ]))),
        ("private network not asked: no allow-private-network, Vary still names it",
            case("/creds/x", "OPTIONS", &[(ORIGIN, "http://localhost:8080"), (ACRM, "GET")],
                 PreflightAllowed, respond(204, &[
                     ("access-control-allow-origin", "http://localhost:8080"),
                     ("access-control-allow-credentials", "true"),
                     ("access-control-allow-methods", "DELETE"),
                     ("access-control-max-age", "0"),
                     ("vary", VARY_PREFLIGHT_PNA),
                 ]))),
        ("private network asked with a value other than true is not asked",
            case("/creds/x", "OPTIONS", &[(ORIGIN, APP), (ACRM, "GET"), (ACRPN, "TRUE")],
                 PreflightAllowed, respond(204, &[
                     ("access-control-allow-origin", APP),
                     ("access-control-allow-credentials", "true"),
                     ("access-control-allow-methods", "DELETE"),
                     ("access-control-max-age", "0"),
                     ("vary", VARY_PREFLIGHT_PNA),
                 ]))),
        ("private network asked but not allowed: still 204, without it",
            case("/min/x", "OPTIONS", &[(ORIGIN, APP), (ACRM, "GET"), (ACRPN, "true")],
                 PreflightAllowed, respond(204, &[
                     ("access-control-allow-origin", APP),
                     ("access-control-allow-methods", "GET, HEAD, POST"),
                     ("vary", VARY_PREFLIGHT),
                 ]))),
        ("star origins answer * to a listed-looking origin",
            case("/star/x", "OPTIONS", &[(ORIGIN, APP), (ACRM, "PATCH")],
                 PreflightAllowed, respond(204, &[
                     ("access-control-allow-origin", "*"),
                     ("access-control-allow-methods", "PATCH"),
                     ("vary", VARY_PREFLIGHT),
                 ]))),
        ("star origins allow a malformed origin, answering *",
            case("/star/x", "OPTIONS", &[(ORIGIN, "HTTPS://Evil, x"), (ACRM, "GET")],
                 PreflightAllowed, respond(204, &[
                     ("access-control-allow-origin", "*"),
                     ("access-control-allow-methods", "GET"),
                     ("vary", VARY_PREFLIGHT),
                 ]))),
    ];
    check_cases(CONFIG, &rows);
}

#[test]
fn preflight_methods() {
    const API: &str = "GET, POST, PUT, PATCH, purge";
    const DEFAULT: &str = "GET, HEAD, POST";
    // (policy path, requested method, the Allow-Methods answer, or None: denied)
    #[rustfmt::skip]
    let rows: &Rows<(&str, &str, Option<&str>)> = &[
        ("a listed method",                                  ("/api/x", "PATCH", Some(API))),
        ("config put is normalized: PUT allowed",            ("/api/x", "PUT", Some(API))),
        ("config put is normalized: put denied (byte-exact)", ("/api/x", "put", None)),
        ("config purge is kept as written: purge allowed",   ("/api/x", "purge", Some(API))),
        ("config purge is kept as written: PURGE denied",    ("/api/x", "PURGE", None)),
        ("PATCH listed: Patch denied",                       ("/api/x", "Patch", None)),
        ("safelisted HEAD allowed though not listed",        ("/api/x", "HEAD", Some(API))),
        ("unlisted DELETE denied",                           ("/api/x", "DELETE", None)),
        ("default GET",                                      ("/min/x", "GET", Some(DEFAULT))),
        ("default HEAD",                                     ("/min/x", "HEAD", Some(DEFAULT))),
        ("default POST",                                     ("/min/x", "POST", Some(DEFAULT))),
        ("default denies PUT",                               ("/min/x", "PUT", None)),
        ("lowercase get is not safelisted",                  ("/min/x", "get", None)),
        ("default denies OPTIONS",                           ("/min/x", "OPTIONS", None)),
        ("an empty request method is denied",               ("/min/x", "", None)),
        ("a list without GET allows GET, answering the list", ("/creds/x", "GET", Some("DELETE"))),
        ("star echoes the requested method",                 ("/star/x", "PROPFIND", Some("PROPFIND"))),
        ("star echoes byte for byte",                        ("/star/x", "patch", Some("patch"))),
        ("star echoes a safelisted method",                  ("/star/x", "GET", Some("GET"))),
        ("star refuses two methods",                         ("/star/x", "GET, PUT", None)),
        ("star refuses a method with a space",               ("/star/x", "PU T", None)),
        ("star refuses non-ASCII bytes",                     ("/star/x", "PUT\u{e9}", None)),
        ("star refuses an empty method",                     ("/star/x", "", None)),
    ];
    let config = config(CONFIG);
    table(rows, |&(path, method, allowed)| {
        let origin = if path == "/creds/x" {
            "http://localhost:8080"
        } else {
            APP
        };
        let decision = decide(
            &config,
            path,
            "OPTIONS",
            &[(ORIGIN, origin), (ACRM, method)],
        )?;
        let outcome = match allowed {
            Some(_) => Outcome::PreflightAllowed,
            None => Outcome::PreflightDeniedMethod,
        };
        let methods = answered_header(&decision, "access-control-allow-methods");
        same((decision.outcome, methods.as_deref()), (outcome, allowed))
    });
}

/// A preflight's fate by its requested headers.
#[derive(Debug, Clone, Copy, PartialEq)]
enum AllowHeaders<'a> {
    /// Allowed, answering these names.
    Echo(&'a str),
    /// Allowed, no name requested: no `Access-Control-Allow-Headers`.
    NoHeader,
    Denied,
}

#[test]
fn preflight_request_headers() {
    use AllowHeaders::*;
    // (policy path, Access-Control-Request-Headers, the answer)
    #[rustfmt::skip]
    let rows: &Rows<(&str, &str, AllowHeaders)> = &[
        ("one listed name",
            ("/api/x", "content-type", Echo("content-type"))),
        ("compared case-insensitively, echoed lowercase",
            ("/api/x", "Content-Type", Echo("content-type"))),
        ("the request's order kept",
            ("/api/x", "x-csrf-token,content-type", Echo("x-csrf-token,content-type"))),
        ("spaces and tabs around names ignored",
            ("/api/x", " content-type ,\tX-CSRF-Token\t", Echo("content-type,x-csrf-token"))),
        ("empty elements skipped",
            ("/api/x", ",content-type,,x-csrf-token,", Echo("content-type,x-csrf-token"))),
        ("two lines joined with comma-space by a proxy",
            ("/api/x", "content-type, x-csrf-token", Echo("content-type,x-csrf-token"))),
        ("a name requested twice is echoed twice",
            ("/api/x", "content-type,content-type", Echo("content-type,content-type"))),
        ("an empty value: no header requested",          ("/api/x", "", NoHeader)),
        ("only commas and blanks: no header requested",  ("/api/x", " , ,\t", NoHeader)),
        ("an unlisted name",                             ("/api/x", "x-other", Denied)),
        ("one unlisted among listed",                    ("/api/x", "content-type,x-other", Denied)),
        ("authorization must be listed",                 ("/api/x", "authorization", Denied)),
        ("a name with an inner space is not a token",    ("/api/x", "content type", Denied)),
        ("a name with a colon is not a token",           ("/api/x", "content-type:", Denied)),
        ("a name with a non-ASCII byte",                 ("/api/x", "content-typ\u{e9}", Denied)),
        ("no allow_headers denies any name",             ("/min/x", "x-a", Denied)),
        ("no allow_headers allows an empty list",        ("/min/x", "", NoHeader)),
        ("authorization listed by name",
            ("/creds/x", "authorization", Echo("authorization"))),
        ("a listed name containing * is no wildcard",    ("/creds/x", "x-other", Denied)),
        ("a listed name containing * matches itself",
            ("/creds/x", "*-Not-A-Star", Echo("*-not-a-star"))),
        ("star allows any token name",
            ("/star/x", "X-Anything, x-more", Echo("x-anything,x-more"))),
        ("star does not cover authorization",            ("/star/x", "authorization", Denied)),
        ("star does not cover Authorization in any case", ("/star/x", "x-a, AUTHORIZATION", Denied)),
        ("star still refuses a malformed name",          ("/star/x", "x-a, a/b", Denied)),
        ("star with authorization listed allows it",
            ("/star-auth/x", "x-a,Authorization", Echo("x-a,authorization"))),
    ];
    let config = config(CONFIG);
    table(rows, |&(path, requested, want)| {
        let origin = if path == "/creds/x" {
            "http://localhost:8080"
        } else {
            APP
        };
        let headers = [(ORIGIN, origin), (ACRM, "GET"), (ACRH, requested)];
        let decision = decide(&config, path, "OPTIONS", &headers)?;
        let echo = answered_header(&decision, "access-control-allow-headers");
        let got = match (decision.outcome, echo.as_deref()) {
            (Outcome::PreflightAllowed, Some(echo)) => Echo(echo),
            (Outcome::PreflightAllowed, None) => NoHeader,
            (Outcome::PreflightDeniedHeaders, _) => Denied,
            (other, _) => return Err(format!("outcome {other:?}")),
        };
        same(got, want)
    });
}

#[test]
fn origin_matching() {
    // Actual GETs on the "api" policy: (Origin bytes, allowed and echoed).
    #[rustfmt::skip]
    let rows: &Rows<(&[u8], bool)> = &[
        ("an exact origin",                                   (b"https://app.example.com", true)),
        ("config App.Example.org:443 is normalized",          (b"https://app.example.org", true)),
        ("config HTTPS://Shop.Example.io:8443 is normalized", (b"https://shop.example.io:8443", true)),
        ("a normalized entry keeps its non-default port",     (b"https://shop.example.io", false)),
        ("an IPv6 literal with its port",                     (b"http://[::1]:3000", true)),
        ("an IPv6 literal on another port",                   (b"http://[::1]:3001", false)),
        ("null listed",                                       (b"null", true)),
        ("NULL is not null",                                  (b"NULL", false)),
        ("subdomain pattern: one level",                      (b"https://a.example.com", true)),
        ("subdomain pattern: any depth",                      (b"https://a.b.c.example.com", true)),
        ("subdomain pattern: never the bare suffix",          (b"https://example.com", false)),
        ("subdomain pattern: not a name ending like it",      (b"https://evilexample.com", false)),
        ("subdomain pattern: not the suffix inside a name",   (b"https://example.com.evil.net", false)),
        ("subdomain pattern: default port only",              (b"https://a.example.com:8443", false)),
        ("subdomain pattern: the scheme must match",          (b"http://a.example.com", false)),
        ("subdomain pattern with port: that port",            (b"https://x.internal.example.net:8443", true)),
        ("subdomain pattern with port: not the default",      (b"https://x.internal.example.net", false)),
        ("subdomain pattern: a label with underscore",        (b"https://my_app.example.com", true)),
        ("any-port pattern: no port",                         (b"http://localhost", true)),
        ("any-port pattern: a port",                          (b"http://localhost:3000", true)),
        ("any-port pattern: the scheme must match",           (b"https://localhost:3000", false)),
        ("any-port pattern: not a longer host",               (b"http://localhost.evil.com:3000", false)),
        ("any-port pattern: port 0 is not a port",            (b"http://localhost:0", false)),
        ("any-port pattern: a leading zero is not serialized", (b"http://localhost:03000", false)),
        ("any-port pattern: an empty port",                   (b"http://localhost:", false)),
        ("an unlisted origin",                                (b"https://evil.example.net", false)),
        ("an uppercase host is not serialized",               (b"https://APP.example.com", false)),
        ("an uppercase scheme is not serialized",             (b"HTTPS://app.example.com", false)),
        ("an uppercase subdomain under a pattern",            (b"https://A.example.com", false)),
        ("an explicit default port is not serialized",        (b"https://app.example.com:443", false)),
        ("a default port under a pattern",                    (b"https://a.example.com:443", false)),
        ("a trailing slash",                                  (b"https://app.example.com/", false)),
        ("a path",                                            (b"https://app.example.com/x", false)),
        ("a query",                                           (b"https://a.example.com?x", false)),
        ("userinfo",                                          (b"https://user@a.example.com", false)),
        ("two origins joined with a comma",     (b"https://app.example.com,https://app.example.com", false)),
        ("two origins joined with comma-space", (b"https://app.example.com, https://a.example.com", false)),
        ("a trailing dot is another host",                    (b"https://a.example.com.", false)),
        ("an empty label",                                    (b"https://a..example.com", false)),
        ("a Latin-1 byte in a subdomain",                     (b"https://\xe9.example.com", false)),
        ("UTF-8 in a subdomain",                    ("https://\u{e9}.example.com".as_bytes(), false)),
        ("0xFF after an exact origin",                        (b"https://app.example.com\xff", false)),
        ("an empty Origin",                                   (b"", false)),
        ("* as Origin",                                       (b"*", false)),
        ("no scheme",                                         (b"a.example.com", false)),
    ];
    let config = config(CONFIG);
    let policy = config.policy_for(b"api.example.com", b"/api/x").unwrap();
    table(rows, |&(origin, allowed)| {
        let request = Request {
            origin: Some(origin),
            ..request("GET", &[])
        };
        let decision = policy.decide(&request);
        let want = match allowed {
            true => (
                Outcome::ActualAllowed,
                forward(std::str::from_utf8(origin).ok()),
            ),
            false => (Outcome::ActualDenied, forward(None)),
        };
        same((decision.outcome, Answer::from(&decision)), want)
    });
}

#[test]
fn long_origins() {
    let host = format!(
        "{}.{}.{}.{}.example.com",
        "a".repeat(60),
        "b".repeat(60),
        "c".repeat(60),
        "d".repeat(58)
    );
    assert_eq!(host.len(), 253);
    let config = config(&format!(
        r#"{{"policies": [{{"name": "p", "allow_origins": ["https://{host}:65535", "https://*.example.com"]}}]}}"#
    ));
    let policy = &config.policies()[0];
    let longest = format!("https://{host}:65535");
    let allowed = policy.decide(&request("GET", &[(ORIGIN, &longest)]));
    assert_eq!(allowed.outcome, Outcome::ActualAllowed);
    let eight_kib = format!("https://{}.example.com", "a.".repeat(4096));
    let denied = policy.decide(&request("GET", &[(ORIGIN, &eight_kib)]));
    assert_eq!(denied.outcome, Outcome::ActualDenied);
}

#[test]
fn actual_requests() {
    use Outcome::*;
    let rejected = respond(403, &[("vary", "Origin")]);
    #[rustfmt::skip]
    let rows = [
        ("an allowed origin: forwarded, answer its origin",
            case("/api/x", "DELETE", &[(ORIGIN, APP)], ActualAllowed, forward(Some(APP)))),
        ("the method of an actual request is not checked",
            case("/min/x", "PATCH", &[(ORIGIN, APP)], ActualAllowed, forward(Some(APP)))),
        ("no Origin: forwarded, nothing to answer",
            case("/api/x", "GET", &[], ActualNoOrigin, forward(None))),
        ("disallowed origin with pass: forwarded without CORS headers",
            case("/api/x", "GET", &[(ORIGIN, EVIL)], ActualDenied, forward(None))),
        ("malformed origin with pass: forwarded",
            case("/api/x", "GET", &[(ORIGIN, "https://app.example.com/")], ActualDenied, forward(None))),
        ("reject: an allowed origin is forwarded",
            case("/reject/x", "POST", &[(ORIGIN, APP)], ActualAllowed, forward(Some(APP)))),
        ("reject: a disallowed origin is answered 403 with Vary: Origin",
            case("/reject/x", "POST", &[(ORIGIN, EVIL)], ActualRejected, rejected.clone())),
        ("reject: a malformed origin is rejected",
            case("/reject/x", "GET", &[(ORIGIN, "https://app.example.com, x")], ActualRejected, rejected.clone())),
        ("reject: null not listed is rejected",
            case("/reject/x", "GET", &[(ORIGIN, "null")], ActualRejected, rejected.clone())),
        ("reject: no Origin is never rejected",
            case("/reject/x", "POST", &[], ActualNoOrigin, forward(None))),
        ("reject: the request's own origin is same-origin",
            case("/reject/x", "POST", &[(ORIGIN, "http://api.example.com")], ActualSameOrigin, forward(None))),
        ("reject: Sec-Fetch-Site same-origin is same-origin",
            case("/reject/x", "POST", &[(ORIGIN, EVIL), (SITE, "same-origin")], ActualSameOrigin, forward(None))),
        ("reject: Sec-Fetch-Site same-site is not same-origin",
            case("/reject/x", "POST", &[(ORIGIN, EVIL), (SITE, "same-site")], ActualRejected, rejected.clone())),
        ("reject: Sec-Fetch-Site is compared byte for byte",
            case("/reject/x", "POST", &[(ORIGIN, EVIL), (SITE, "Same-Origin")], ActualRejected, rejected)),
        ("pass: same-origin is counted as such",
            case("/api/x", "POST", &[(ORIGIN, "http://api.example.com")], ActualSameOrigin, forward(None))),
        ("an allowed origin wins over same-origin",
            case("/api/x", "GET", &[(ORIGIN, APP), (SITE, "same-origin")], ActualAllowed, forward(Some(APP)))),
        ("star: every origin allowed, answered *",
            case("/star/x", "GET", &[(ORIGIN, EVIL)], ActualAllowed, forward(Some("*")))),
        ("star: a malformed origin allowed, answered *",
            case("/star/x", "GET", &[(ORIGIN, "\u{ff}\u{fe}, x")], ActualAllowed, forward(Some("*")))),
        ("star: no Origin is still answered *",
            case("/star/x", "GET", &[], ActualNoOrigin, forward(Some("*")))),
    ];
    check_cases(CONFIG, &rows);
}

#[test]
fn same_origin_compares_scheme_host_and_port() {
    let config = config(CONFIG);
    let policy = config.policy_for(b"x", b"/reject/x").unwrap();
    // (Origin, request scheme, request authority, same-origin)
    #[rustfmt::skip]
    let rows: &Rows<(&str, &str, &str, bool)> = &[
        ("same scheme and host",          ("http://api.example.com", "http", "api.example.com", true)),
        ("authority in another case",     ("http://api.example.com", "http", "API.Example.com", true)),
        ("authority with default port",   ("http://api.example.com", "http", "api.example.com:80", true)),
        ("https with its default port",   ("https://api.example.com", "https", "api.example.com:443", true)),
        ("the same non-default port",     ("https://api.example.com:8443", "https", "api.example.com:8443", true)),
        ("another scheme",                ("https://api.example.com", "http", "api.example.com", false)),
        ("another port",                  ("http://api.example.com:81", "http", "api.example.com", false)),
        ("another host",                  ("http://app.example.com", "http", "api.example.com", false)),
        ("an uppercase Origin",           ("http://API.example.com", "http", "api.example.com", false)),
        ("null is never same-origin",     ("null", "http", "null", false)),
    ];
    table(rows, |&(origin, scheme, authority, same_origin)| {
        let request = Request {
            scheme: scheme.as_bytes(),
            authority: authority.as_bytes(),
            ..request("GET", &[(ORIGIN, origin)])
        };
        let want = match same_origin {
            true => Outcome::ActualSameOrigin,
            false => Outcome::ActualRejected,
        };
        same(policy.decide(&request).outcome, want)
    });
}

#[test]
fn shadow_mode_decides_but_always_passes() {
    use Outcome::*;
    let shadow = CONFIG.replacen('{', r#"{"mode": "shadow", "#, 1);
    let held = |answer: Answer| Answer::HeldBack(Box::new(answer));
    let vary = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";
    #[rustfmt::skip]
    let rows = [
        ("allowed preflight",
            case("/api/x", "OPTIONS", &[(ORIGIN, APP), (ACRM, "PUT")], PreflightAllowed, held(respond(204, &[
                ("access-control-allow-origin", APP), ("access-control-allow-methods", "GET, POST, PUT, PATCH, purge"),
                ("access-control-max-age", "600"), ("vary", vary)])))),
        ("denied preflight",
            case("/api/x", "OPTIONS", &[(ORIGIN, EVIL), (ACRM, "PUT")], PreflightDeniedOrigin, held(respond(403, &[("vary", vary)])))),
        ("allowed actual",
            case("/api/x", "GET", &[(ORIGIN, APP)], ActualAllowed, held(forward(Some(APP))))),
        ("rejected actual",
            case("/reject/x", "GET", &[(ORIGIN, EVIL)], ActualRejected, held(respond(403, &[("vary", "Origin")])))),
        ("no Origin under star",
            case("/star/x", "GET", &[], ActualNoOrigin, held(forward(Some("*"))))),
    ];
    check_cases(&shadow, &rows);
    assert!(config(&shadow).is_shadow());
    assert!(!config(CONFIG).is_shadow());
    let enforce = r#"{"mode": "enforce", "policies": [{"name": "p", "allow_origins": ["*"]}]}"#;
    assert!(!config(enforce).is_shadow());
}

#[test]
fn denials_name_the_refused_value() {
    let config = config(CONFIG);
    // (path, method, headers, the denial as logged)
    type Row<'a> = (&'a str, &'a str, Lines<'a>, &'a str);
    #[rustfmt::skip]
    let rows: &Rows<Row> = &[
        ("the origin",
            ("/api/x", "GET", &[(ORIGIN, EVIL)], r#"origin "https://evil.example.net" is not in allow_origins"#)),
        ("the method",
            ("/api/x", "OPTIONS", &[(ORIGIN, APP), (ACRM, "DELETE")], r#"method "DELETE" is not in allow_methods"#)),
        ("the first refused header",
            ("/api/x", "OPTIONS", &[(ORIGIN, APP), (ACRM, "GET"), (ACRH, "content-type, X-A, x-b")],
             r#"request header "X-A" is not in allow_headers"#)),
        ("control bytes, quotes and non-ASCII escaped",
            ("/api/x", "GET", &[(ORIGIN, "a\"\n\u{ff}")], r#"origin "a\x22\x0a\xc3\xbf" is not in allow_origins"#)),
    ];
    table(rows, |&(path, method, headers, want)| {
        let decision = decide(&config, path, method, headers)?;
        let denial = decision.denial.ok_or("no denial")?;
        same(denial.to_string().as_str(), want)
    });
    let long = "x".repeat(5000);
    let decision = decide(&config, "/api/x", "GET", &[(ORIGIN, &long)]).unwrap();
    assert_eq!(decision.denial, Some(Denial::Origin(long.as_bytes())));
    let logged = decision.denial.unwrap().to_string();
    assert!(
        logged.len() < 200 && logged.contains("(5000 bytes)"),
        "{logged}"
    );
    let allowed = decide(&config, "/api/x", "GET", &[(ORIGIN, APP)]).unwrap();
    assert_eq!(allowed.denial, None);
}

/// A policy's edits to an upstream response: (names removed, headers set).
fn edits(
    config: &Config,
    path: &str,
    allow_origin: Option<&str>,
    upstream: &[(&str, &str)],
) -> (Vec<String>, Vec<(String, String)>) {
    let policy = config
        .policy_for(b"api.example.com", path.as_bytes())
        .unwrap();
    let upstream = upstream.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes()));
    let edits = policy.edit_response(allow_origin, upstream);
    let removed = edits
        .remove
        .iter()
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .collect();
    (removed, lines(&edits.set.iter().collect::<Vec<_>>()))
}

fn lines(lines: &[(&str, &str)]) -> Vec<(String, String)> {
    lines
        .iter()
        .map(|&(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

#[test]
fn response_edits() {
    const EXPOSE: &str = "X-Request-Id, X-RateLimit-Remaining";
    // (policy path, allow_origin of the decision, upstream lines, names removed, headers set)
    type Row<'a> = (
        &'a str,
        Option<&'a str>,
        &'a [(&'a str, &'a str)],
        &'a [&'a str],
        &'a [(&'a str, &'a str)],
    );
    #[rustfmt::skip]
    let rows: &Rows<Row> = &[
        ("allowed: origin, expose headers, Vary",
            ("/api/x", Some(APP), &[], &[],
             &[("access-control-allow-origin", APP), ("access-control-expose-headers", EXPOSE), ("vary", "Origin")])),
        ("denied: only Vary",
            ("/api/x", None, &[], &[], &[("vary", "Origin")])),
        ("no expose_headers: no expose header",
            ("/min/x", Some(APP), &[], &[], &[("access-control-allow-origin", APP), ("vary", "Origin")])),
        ("credentials on an allowed response",
            ("/creds/x", Some(APP), &[], &[],
             &[("access-control-allow-origin", APP), ("access-control-allow-credentials", "true"),
               ("access-control-expose-headers", "X-Request-Id"), ("vary", "Origin")])),
        ("no credentials on a denied response",
            ("/creds/x", None, &[("Access-Control-Allow-Credentials", "true")],
             &["Access-Control-Allow-Credentials"], &[("vary", "Origin")])),
        ("every upstream access-control-* removed, in any case",
            ("/api/x", Some(APP),
             &[("Access-Control-Allow-Origin", "*"), ("content-type", "text/plain"),
               ("access-control-foo", "x"), ("ACCESS-CONTROL-MAX-AGE", "5"),
               ("access-control-allow-origin", "https://other.example.com")],
             &["Access-Control-Allow-Origin", "access-control-foo", "ACCESS-CONTROL-MAX-AGE",
               "access-control-allow-origin"],
             &[("access-control-allow-origin", APP), ("access-control-expose-headers", EXPOSE), ("vary", "Origin")])),
        ("names that only look alike are kept",
            ("/api/x", None,
             &[("access-control", "x"), ("x-access-control-y", "z"), ("access_control_allow_origin", "*")],
             &[], &[("vary", "Origin")])),
        ("star: *, expose *, Vary left alone",
            ("/star/x", Some("*"), &[("Vary", "Accept-Encoding"), ("access-control-allow-origin", APP)],
             &["access-control-allow-origin"],
             &[("access-control-allow-origin", "*"), ("access-control-expose-headers", "*")])),
        ("star without a Vary adds none",
            ("/star/x", Some("*"), &[], &[],
             &[("access-control-allow-origin", "*"), ("access-control-expose-headers", "*")])),
    ];
    let config = config(CONFIG);
    table(rows, |&(path, allow_origin, upstream, removed, set)| {
        let removed: Vec<String> = removed.iter().map(|n| n.to_string()).collect();
        same(
            edits(&config, path, allow_origin, upstream),
            (removed, lines(set)),
        )
    });
}

#[test]
fn vary_merge() {
    // (upstream lines, the Vary to set, or None: leave the upstream's)
    #[rustfmt::skip]
    let rows: &Rows<(Lines, Option<&str>)> = &[
        ("no Vary becomes Origin",               (&[], Some("Origin"))),
        ("one name gets Origin appended",        (&[("Vary", "Accept-Encoding")], Some("Accept-Encoding, Origin"))),
        ("the header name in any case",          (&[("VARY", "Accept-Encoding")], Some("Accept-Encoding, Origin"))),
        ("several lines joined by comma-space",
            (&[("vary", "Accept-Encoding"), ("vary", "Cookie")], Some("Accept-Encoding, Cookie, Origin"))),
        ("a list on one line",
            (&[("vary", "Accept-Encoding, Cookie")], Some("Accept-Encoding, Cookie, Origin"))),
        ("rewritten name by name",
            (&[("vary", "Accept-Encoding,Cookie"), ("vary", "X-A ,X-B")], Some("Accept-Encoding, Cookie, X-A, X-B, Origin"))),
        ("a name that is not a token left out",  (&[("vary", "Cookie, a b, \u{e9}")], Some("Cookie, Origin"))),
        ("blanks around a line trimmed",         (&[("vary", " Cookie\t")], Some("Cookie, Origin"))),
        ("a line without names ignored",         (&[("vary", " , "), ("vary", "Cookie")], Some("Cookie, Origin"))),
        ("already names Origin",                 (&[("vary", "Accept-Encoding, Origin")], None)),
        ("already names origin in another case", (&[("vary", "ORIGIN")], None)),
        ("Origin on a second line",              (&[("vary", "Cookie"), ("vary", "origin")], None)),
        ("star stays star",                      (&[("vary", "*")], None)),
        ("star on a second line",                (&[("vary", "Cookie"), ("vary", "*")], None)),
        ("a name containing Origin is another",  (&[("vary", "Originator")], Some("Originator, Origin"))),
        ("an empty Vary becomes Origin",         (&[("vary", "")], Some("Origin"))),
    ];
    let config = config(CONFIG);
    let vary =
        |set: Vec<(String, String)>| set.into_iter().find(|(n, _)| n == "vary").map(|(_, v)| v);
    table(rows, |&(upstream, want)| {
        // Allowed or not, with an Origin or none: the same Vary.
        let denied = vary(edits(&config, "/api/x", None, upstream).1);
        let allowed = vary(edits(&config, "/api/x", Some(APP), upstream).1);
        let want = want.map(String::from);
        same((denied, allowed), (want.clone(), want))
    });
}

#[test]
fn compiled_header_values() {
    // (the policy's fields after "allow_origins", a preflight answer's header, its value)
    #[rustfmt::skip]
    let rows: &Rows<(&str, &str, &str)> = &[
        ("default methods",
            ("", "access-control-allow-methods", "GET, HEAD, POST")),
        ("methods in config order",
            (r#", "allow_methods": ["PUT", "GET"]"#, "access-control-allow-methods", "PUT, GET")),
        ("put, delete, options normalized as browsers do",
            (r#", "allow_methods": ["put", "Delete", "oPtions"]"#, "access-control-allow-methods", "PUT, DELETE, OPTIONS")),
        ("other methods kept byte for byte",
            (r#", "allow_methods": ["patch", "Purge"]"#, "access-control-allow-methods", "patch, Purge")),
        ("duplicates after normalization listed once",
            (r#", "allow_methods": ["PUT", "put", "GET"]"#, "access-control-allow-methods", "PUT, GET")),
        ("max_age, a whole number",
            (r#", "max_age": 7200"#, "access-control-max-age", "7200")),
        ("max_age written as a float, as Istio sends it",
            (r#", "max_age": 3600.0"#, "access-control-max-age", "3600")),
        ("max_age in exponent form",
            (r#", "max_age": 8.64e4"#, "access-control-max-age", "86400")),
        ("max_age 0",
            (r#", "max_age": 0"#, "access-control-max-age", "0")),
    ];
    table(rows, |&(fields, header, value)| {
        let json =
            format!(r#"{{"policies": [{{"name": "p", "allow_origins": ["{APP}"]{fields}}}]}}"#);
        let config = Config::from_json(json.as_bytes()).map_err(|e| e.to_string())?;
        let decision =
            config.policies()[0].decide(&request("OPTIONS", &[(ORIGIN, APP), (ACRM, "GET")]));
        same(answered_header(&decision, header), Some(value.to_string()))
    });
    let expose = r#"{"policies": [{"name": "p", "allow_origins": ["https://app.example.com"],
        "expose_headers": ["X-Request-Id", "content-length"]}]}"#;
    let (_, set) = edits(&config(expose), "/", Some(APP), &[]);
    let joined = (
        "access-control-expose-headers".to_string(),
        "X-Request-Id, content-length".to_string(),
    );
    assert!(set.contains(&joined), "{set:?}");
    let empty_lists = r#"{"policies": [{"name": "p", "allow_origins": ["https://app.example.com"],
        "expose_headers": [], "allow_headers": []}]}"#;
    let (_, set) = edits(&config(empty_lists), "/", Some(APP), &[]);
    assert_eq!(
        set,
        lines(&[("access-control-allow-origin", APP), ("vary", "Origin")])
    );
}
