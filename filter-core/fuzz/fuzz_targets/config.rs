//! Arbitrary bytes as the plugin JSON, read through serde into the model:
//! reading never panics, a refusal renders as text, the normalized model of
//! an accepted config reads back as itself, and every policy decides a few
//! fixed requests and edits a response without panicking.

#![no_main]

use filter_core::{Action, Config, PluginConfig, Request};
use libfuzzer_sys::fuzz_target;

const ORIGINS: [&[u8]; 4] = [
    b"https://app.example.com",
    b"https://a.b.example.com:8443",
    b"null",
    b"http://localhost:3000",
];

const UPSTREAM: [(&[u8], &[u8]); 3] = [
    (b"Access-Control-Allow-Origin", b"*"),
    (b"Vary", b"Accept-Encoding"),
    (b"Content-Type", b"text/plain"),
];

fuzz_target!(|json: &[u8]| {
    let config = match Config::from_json(json) {
        Ok(config) => config,
        Err(errors) => {
            assert!(errors.iter().next().is_some(), "a refusal names no problem");
            let _ = errors.to_string();
            return;
        }
    };
    let normalized = config.plugin_config();
    let written = serde_json::to_vec(normalized).expect("the model serializes");
    let read = PluginConfig::from_json(&written).expect("the normalized model reads back");
    assert_eq!(&read, normalized, "the model changed on a round trip");
    let again = Config::compile(&read).expect("the normalized model compiles");
    assert_eq!(again.plugin_config(), normalized, "normalizing is not idempotent");
    for policy in config.policies() {
        for origin in ORIGINS {
            let preflight = Request {
                method: b"OPTIONS",
                scheme: b"https",
                authority: b"api.example.com",
                origin: Some(origin),
                access_control_request_method: Some(b"PUT"),
                access_control_request_headers: Some(b"content-type,x-custom"),
                access_control_request_private_network: Some(b"true"),
                sec_fetch_site: Some(b"cross-site"),
            };
            let actual = Request {
                method: b"POST",
                access_control_request_method: None,
                access_control_request_headers: None,
                ..preflight
            };
            for request in [preflight, actual] {
                let decision = policy.decide(&request);
                if let Some(denial) = decision.denial {
                    let _ = denial.to_string();
                }
                if let Some(Action::Forward { allow_origin }) = decision.to_carry_out() {
                    policy.edit_response(*allow_origin, UPSTREAM);
                }
            }
        }
    }
    let _ = config.policy_for(b"api.example.com:8443", b"/api/items?x=1");
});
