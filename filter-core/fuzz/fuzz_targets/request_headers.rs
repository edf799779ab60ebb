//! Arbitrary bytes as `Access-Control-Request-Method` and
//! `Access-Control-Request-Headers` of a preflight, against policies that
//! list names, allow `*`, and allow `*` with `Authorization` listed. The
//! engine allows exactly what a reference check written here from
//! docs/behaviour.md allows, and answers with the requested names lowercased.
//!
//! Input: the first byte is the method's length, the method follows, the
//! rest is the header list.

#![no_main]

use filter_core::{Action, Config, Outcome, Policy, Request};
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

static CONFIG: LazyLock<Config> = LazyLock::new(|| {
    Config::from_json(
        br#"{"policies": [
            {"name": "listed", "match": {"paths": ["/listed"]}, "allow_origins": ["https://app.example.com"],
             "allow_methods": ["put", "DELETE", "patch"],
             "allow_headers": ["Content-Type", "X-CSRF-Token", "x-requested-with"]},
            {"name": "star", "match": {"paths": ["/star"]}, "allow_origins": ["https://app.example.com"],
             "allow_methods": ["*"], "allow_headers": ["*"]},
            {"name": "star-and-authorization", "match": {"paths": ["/star-auth"]}, "allow_origins": ["*"],
             "allow_headers": ["*", "Authorization"]}
        ]}"#,
    )
    .unwrap()
});

struct Rules {
    path: &'static [u8],
    methods: Option<&'static [&'static [u8]]>,
    headers: &'static [&'static str],
    any_header: bool,
}

const RULES: [Rules; 3] = [
    Rules {
        path: b"/listed",
        methods: Some(&[b"PUT", b"DELETE", b"patch"]),
        headers: &["content-type", "x-csrf-token", "x-requested-with"],
        any_header: false,
    },
    Rules {
        path: b"/star",
        methods: None,
        headers: &[],
        any_header: true,
    },
    Rules {
        path: b"/star-auth",
        methods: Some(&[]),
        headers: &["authorization"],
        any_header: true,
    },
];

fn is_token(s: &[u8]) -> bool {
    !s.is_empty()
        && s.iter()
            .all(|&b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

impl Rules {
    fn method_allowed(&self, method: &[u8]) -> bool {
        is_token(method)
            && (matches!(method, b"GET" | b"HEAD" | b"POST")
                || self.methods.is_none_or(|listed| listed.contains(&method)))
    }

    /// The lowercased names if every one is allowed, else `None`.
    fn headers_allowed(&self, value: &[u8]) -> Option<Vec<String>> {
        let mut names = Vec::new();
        for element in value.split(|&b| b == b',') {
            let name = element
                .iter()
                .position(|&b| b != b' ' && b != b'\t')
                .map_or(&[][..], |start| {
                    let end = element.iter().rposition(|&b| b != b' ' && b != b'\t');
                    &element[start..=end.unwrap()]
                });
            if name.is_empty() {
                continue;
            }
            if !is_token(name) {
                return None;
            }
            let lower = String::from_utf8(name.to_ascii_lowercase()).unwrap();
            let listed = self.headers.contains(&lower.as_str());
            if !listed && !(self.any_header && lower != "authorization") {
                return None;
            }
            names.push(lower);
        }
        Some(names)
    }

    fn check(&self, policy: &Policy, method: &[u8], requested: &[u8]) {
        let request = Request {
            method: b"OPTIONS",
            scheme: b"https",
            authority: b"api.example.com",
            origin: Some(b"https://app.example.com"),
            access_control_request_method: Some(method),
            access_control_request_headers: Some(requested),
            ..Request::default()
        };
        let decision = policy.decide(&request);
        let Action::Respond { status, headers } = decision.action else {
            panic!("preflight not answered at the edge");
        };
        let names = self.headers_allowed(requested);
        let expected = match (self.method_allowed(method), &names) {
            (false, _) => Outcome::PreflightDeniedMethod,
            (true, None) => Outcome::PreflightDeniedHeaders,
            (true, Some(_)) => Outcome::PreflightAllowed,
        };
        assert_eq!(
            decision.outcome,
            expected,
            "method \"{}\", headers \"{}\"",
            method.escape_ascii(),
            requested.escape_ascii()
        );
        if expected != Outcome::PreflightAllowed {
            assert_eq!(status, 403);
            assert!(headers.iter().all(|(name, _)| name == "vary"));
            return;
        }
        assert_eq!(status, 204);
        let names = names.unwrap();
        let joined = (!names.is_empty()).then(|| names.join(","));
        assert_eq!(headers.allow_headers.as_deref(), joined.as_deref());
        if !self.headers.contains(&"authorization") {
            assert!(!names.iter().any(|n| n == "authorization"));
        }
        let methods = headers.allow_methods.unwrap();
        if self.methods.is_none() {
            assert_eq!(methods.as_bytes(), method);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&len, rest)) = data.split_first() else {
        return;
    };
    let (method, requested) = rest.split_at(usize::from(len).min(rest.len()));
    for rules in &RULES {
        let policy = CONFIG.policy_for(b"api.example.com", rules.path).unwrap();
        rules.check(policy, method, requested);
    }
});
