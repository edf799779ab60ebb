//! Rate limiting with Cloudflare's rate limiting binding, per policy.
//!
//! `CORS_RATE_LIMITS` maps a policy's name to the name of a rate limiting
//! binding (`[[ratelimits]]` in wrangler.toml). A request in that policy's
//! scope which is to be forwarded asks the limiter first, keyed by the
//! client's address; over the limit it is answered 429 with the policy's CORS
//! headers, so that the page can read the status and back off instead of
//! seeing an opaque network error. Preflights are never limited: browsers
//! send them on their own and cache them, and they cost the origin nothing.
//!
//! The mapping lives in the Worker, not in the plugin JSON: a binding is the
//! Worker's own resource, and Envoy has no such thing.

use crate::{binding, edits_text, forward, respond, Forward};
use filter_core::Config;
use wasm_bindgen::prelude::{wasm_bindgen, Closure};
use worker::js_sys::{self, Array, Object, Reflect, JSON};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::{console_error, Env};

/// The status of an answer over the limit.
const TOO_MANY_REQUESTS: u16 = 429;

#[wasm_bindgen]
extern "C" {
    /// A rate limiting binding: `limit({key})` resolves to `{success}`.
    pub type RateLimiter;
    #[wasm_bindgen(method, catch)]
    fn limit(this: &RateLimiter, options: &Object) -> Result<Settling, JsValue>;

    /// A Promise, for a `then` that takes any two functions: js-sys's
    /// takes closures that live until dropped, not until called.
    #[wasm_bindgen(extends = js_sys::Object)]
    type Settling;
    #[wasm_bindgen(method)]
    fn then(this: &Settling, on_fulfilled: &JsValue, on_rejected: &JsValue) -> js_sys::Promise;
}

/// For each policy of `config`, by index, the name of its rate limiting
/// binding, read from `CORS_RATE_LIMITS` (a JSON object, or its text). Every
/// name must be a policy of `config`, and every binding must exist.
pub fn load(env: &Env, config: &Config) -> Result<Vec<Option<String>>, Vec<String>> {
    let mut limiters = vec![None; config.policies().len()];
    let value = binding(env, "CORS_RATE_LIMITS");
    if value.is_undefined() || value.is_null() {
        return Ok(limiters);
    }
    // A wrangler `[vars]` table arrives as an object; a text variable is
    // parsed into one, so both are read alike.
    let parsed = match value.as_string() {
        Some(text) => JSON::parse(&text).unwrap_or(JsValue::UNDEFINED),
        None => value,
    };
    if !parsed.is_object() || Array::is_array(&parsed) {
        return Err(vec![
            "CORS_RATE_LIMITS: not a JSON object of policy names to binding names".into(),
        ]);
    }
    let entries = Object::entries(parsed.unchecked_ref());
    let entries = entries.iter().filter_map(|entry| {
        let entry: Array = entry.unchecked_into();
        Some((entry.get(0).as_string()?, entry.get(1)))
    });
    let mut problems = Vec::new();
    for (policy, name) in entries {
        let Some(index) = config.policies().iter().position(|p| p.name() == policy) else {
            problems.push(format!(
                "CORS_RATE_LIMITS: policy \"{policy}\": no such policy in CORS_CONFIG"
            ));
            continue;
        };
        let Some(name) = name.as_string() else {
            problems.push(format!(
                "CORS_RATE_LIMITS: policy \"{policy}\": {} is not a binding name",
                JSON::stringify(&name).map(String::from).unwrap_or_default()
            ));
            continue;
        };
        let limiter = binding(env, &name);
        if !Reflect::get(&limiter, &"limit".into()).is_ok_and(|limit| limit.is_function()) {
            problems.push(format!(
                "CORS_RATE_LIMITS: policy \"{policy}\": \"{name}\" is not a rate limiting binding of this Worker"
            ));
            continue;
        }
        limiters[index] = Some(name);
    }
    if problems.is_empty() {
        Ok(limiters)
    } else {
        Err(problems)
    }
}

/// Asks `limiter` about `key`, then forwards, or answers 429 with the CORS
/// headers the forwarded answer would have had. A limiter that fails lets the
/// request through: it is there against abuse, and its failure is no reason
/// to take the API down.
pub fn check_then_forward(
    limiter: &RateLimiter,
    key: &str,
    then: Forward,
) -> Result<js_sys::Promise, JsValue> {
    let options = Object::new();
    Reflect::set(&options, &"key".into(), &key.into())?;
    let checked = limiter.limit(&options)?;
    // One callback for both outcomes: it runs exactly once, which frees it.
    let settle = Closure::once_into_js(move |outcome: JsValue| -> Result<JsValue, JsValue> {
        let success = Reflect::get(&outcome, &"success".into())
            .ok()
            .and_then(|success| success.as_bool());
        match success {
            Some(false) => {
                let edits = then.edit.as_ref().map(|edit| {
                    edits_text(
                        edit.policy,
                        edit.allow_origin.as_deref(),
                        std::iter::empty(),
                    )
                });
                Ok(respond(TOO_MANY_REQUESTS, &edits.unwrap_or_default()).into())
            }
            Some(true) => Ok(forward(then).into()),
            None => {
                console_error!("rate limiter failed, request let through: {outcome:?}");
                Ok(forward(then).into())
            }
        }
    });
    Ok(checked.then(&settle, &settle))
}
