//! The CORS filter as a Cloudflare Worker: thin glue around `filter-core`.
//!
//! The plugin JSON comes from the `CORS_CONFIG` binding (a JSON string, or a
//! JSON object such as a wrangler `[vars]` table) and is compiled once per
//! isolate. For each request the Worker asks the engine what to do and does
//! it: preflights and rejections are answered here and never reach the
//! origin; everything else goes to `ORIGIN_URL` (or, when that is unset, to
//! the request's own URL) and comes back with the policy's CORS headers.
//! Two optional bindings add to that: decision counters in Workers Analytics
//! Engine ([`analytics`]) and per-policy rate limits ([`limits`]).

mod analytics;
mod limits;

use filter_core::{Action, Config, Decision, Outcome, Policy, Request as CorsRequest};
use limits::RateLimiter;
use std::sync::OnceLock;
use wasm_bindgen::prelude::{wasm_bindgen, Closure};
use worker::js_sys::{self, Reflect, JSON};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::web_sys::{Headers, Request, Response, ResponseInit};
use worker::{console_error, console_log, Env};

/// The bindings, read on an isolate's first request. They cannot change for
/// the isolate's lifetime, so compiling the config again per request would
/// only cost time.
struct Settings {
    /// The compiled config and its rate limits, or the lines saying why they
    /// were refused.
    setup: Result<Setup, Vec<String>>,
    /// Where requests go instead of their own URL: `scheme://host[:port]`.
    origin_url: Option<String>,
    /// Whether decisions are written to Analytics Engine.
    analytics: bool,
}

/// What the Worker runs with.
struct Setup {
    config: Config,
    /// Per policy, by index: the name of its rate limiting binding.
    rate_limiters: Vec<Option<String>>,
}

static SETTINGS: OnceLock<Settings> = OnceLock::new();

const REFUSED_BODY: &str = "CORS configuration refused; see the Worker's logs\n";

#[wasm_bindgen(module = "/src/glue.js")]
extern "C" {
    /// The method, URL and headers the engine reads first, as lines.
    #[wasm_bindgen(js_name = requestFacts)]
    fn request_facts(request: &Request) -> String;
    /// The value of one request header.
    fn header(request: &Request, name: &str) -> Option<String>;
    /// An empty response with the headers that `edits` sets.
    fn respond(status: u16, edits: &str) -> Response;
    /// The upstream's answer to `request`, edited by `editor` if it is a
    /// function.
    #[wasm_bindgen(js_name = forward)]
    fn send(
        url: &str,
        request: &Request,
        editor: &JsValue,
        policy: usize,
        allow_origin: Option<String>,
    ) -> js_sys::Promise;
}

thread_local! {
    /// The one callback through which glue.js asks for the edits to an
    /// upstream's answer: made once, rather than a closure per request.
    static EDITOR: Closure<dyn Fn(usize, Option<String>, String) -> String> =
        Closure::new(upstream_edits);
}

/// Every request, as `worker.js` hands it over through worker-build's
/// generated glue (with the bindings and the execution context, unused).
///
/// A plain function, not `#[event(fetch)]`, whose handler is a Rust future:
/// wasm-bindgen drives one with a Promise, a task queue, microtasks and two
/// closures per `await`, a large share of workerd's CPU per request
/// (scripts/bench-worker.sh measures it). An answer made here (a preflight,
/// a rejection) returns as it is; a forwarded request returns glue.js's
/// Promise of the upstream's (edited) answer. An error from the runtime's
/// API (none is expected) is thrown, and the runtime answers 500.
#[wasm_bindgen]
pub fn fetch(request: Request, env: Env, _ctx: JsValue) -> Result<JsValue, JsValue> {
    Ok(match handle(request, &env)? {
        Handled::Answer(response) => response.into(),
        Handled::Forward(then) => forward(then).into(),
        Handled::Limit { limiter, key, then } => {
            limits::check_then_forward(&limiter, &key, then)?.into()
        }
    })
}

/// What becomes of a request.
enum Handled {
    /// Answered here.
    Answer(Response),
    /// Sent on.
    Forward(Forward),
    /// Sent on if the policy's rate limiter lets the client's `key` through.
    Limit {
        limiter: RateLimiter,
        key: String,
        then: Forward,
    },
}

/// A request on its way to the upstream.
struct Forward {
    request: Request,
    /// Where it goes.
    url: String,
    /// Inside a policy's scope, what the policy does to the answer.
    edit: Option<Edit>,
}

/// The CORS headers a policy puts on a forwarded request's answer.
struct Edit {
    policy: &'static Policy,
    allow_origin: Option<String>,
}

/// What the policy makes of a request. A refused config is logged again on
/// each request, so that a `wrangler tail` started after the isolate's first
/// request still says why.
fn handle(request: Request, env: &Env) -> Result<Handled, JsValue> {
    let settings = SETTINGS.get_or_init(|| Settings::load(env));
    let setup = match &settings.setup {
        Ok(setup) => setup,
        Err(lines) => {
            for line in lines {
                console_error!("CORS_CONFIG refused: {line}");
            }
            return Ok(Handled::Answer(refused()?));
        }
    };
    let facts = request_facts(&request);
    let mut lines = facts.split('\n');
    let method = lines.next().unwrap_or_default();
    let url = lines.next().unwrap_or_default();
    // `+value` when the header is present, `-` when absent, and no line for
    // a preflight header of a request other than an OPTIONS. The runtime
    // decodes header bytes as UTF-8 for JS, an invalid byte as U+FFFD: that
    // can only turn a value that matches nothing into another.
    let mut header_line = || lines.next().and_then(|line| line.strip_prefix('+'));
    let origin = header_line();
    let request_method = header_line();
    let request_headers = header_line();
    let private_network = header_line();
    let (scheme, authority, path) = split_url(url);
    let Some(policy) = setup
        .config
        .policy_for(authority.as_bytes(), path.as_bytes())
    else {
        return Ok(Handled::Forward(Forward {
            url: settings.forward_url(url, path),
            request,
            edit: None,
        }));
    };
    let mut cors_request = CorsRequest {
        method: method.as_bytes(),
        scheme: scheme.as_bytes(),
        authority: authority.as_bytes(),
        origin: origin.map(str::as_bytes),
        access_control_request_method: request_method.map(str::as_bytes),
        access_control_request_headers: request_headers.map(str::as_bytes),
        access_control_request_private_network: private_network.map(str::as_bytes),
        sec_fetch_site: None,
    };
    let mut decision = policy.decide(&cors_request);
    // Sec-Fetch-Site can only turn an origin that is not allowed into the
    // request's own: read (one more call into the runtime) only then, and
    // decided again with it, as if it had been read up front.
    let sec_fetch_site;
    if let Outcome::ActualDenied | Outcome::ActualRejected = decision.outcome {
        sec_fetch_site = header(&request, "sec-fetch-site");
        cors_request.sec_fetch_site = sec_fetch_site.as_deref().map(str::as_bytes);
        decision = policy.decide(&cors_request);
    }
    log_denial(policy, &decision);
    if settings.analytics {
        let mode = if decision.shadow { "shadow" } else { "enforce" };
        analytics::record(env, policy, decision.outcome, mode);
    }
    let edit = match decision.to_carry_out() {
        Some(Action::Respond { status, headers }) => {
            let mut edits = String::new();
            for (name, value) in headers.iter() {
                push_set(&mut edits, name, value);
            }
            return Ok(Handled::Answer(respond(*status, &edits)));
        }
        // Shadow mode: decided and logged, the request goes on untouched.
        None => None,
        Some(Action::Forward { allow_origin }) => Some(Edit {
            policy,
            allow_origin: allow_origin.map(String::from),
        }),
    };
    let then = Forward {
        url: settings.forward_url(url, path),
        request,
        edit,
    };
    match &setup.rate_limiters[policy.index()] {
        Some(name) if !cors_request.is_preflight() => Ok(Handled::Limit {
            limiter: binding(env, name).unchecked_into(),
            // Cloudflare sets it on every request from a client.
            key: then
                .request
                .headers()
                .get("cf-connecting-ip")
                .ok()
                .flatten()
                .unwrap_or_default(),
            then,
        }),
        _ => Ok(Handled::Forward(then)),
    }
}

impl Settings {
    fn load(env: &Env) -> Settings {
        let setup = config_json(env)
            .and_then(|json| {
                Config::from_json(json.as_bytes())
                    .map_err(|errors| errors.iter().map(ToString::to_string).collect())
            })
            .and_then(|config| {
                let rate_limiters = limits::load(env, &config)?;
                Ok(Setup {
                    config,
                    rate_limiters,
                })
            });
        let origin_url = binding(env, "ORIGIN_URL")
            .as_string()
            .filter(|url| !url.is_empty());
        Settings {
            setup,
            origin_url,
            analytics: analytics::bound(env),
        }
    }

    /// Where a request with URL `url` and path (and query) `path` goes.
    fn forward_url(&self, url: &str, path: &str) -> String {
        match &self.origin_url {
            Some(base) => format!("{}{path}", base.trim_end_matches('/')),
            None => url.to_owned(),
        }
    }
}

/// The plugin JSON from `CORS_CONFIG`. A wrangler `[vars]` table arrives as a
/// JS object, and is turned back into JSON text for the engine.
fn config_json(env: &Env) -> Result<String, Vec<String>> {
    let value = binding(env, "CORS_CONFIG");
    if let Some(text) = value.as_string() {
        return Ok(text);
    }
    if value.is_undefined() || value.is_null() {
        return Err(vec![
            "CORS_CONFIG is not set: bind the plugin JSON as a text or JSON variable".into(),
        ]);
    }
    JSON::stringify(&value)
        .ok()
        .and_then(|json| json.as_string())
        .ok_or_else(|| vec!["CORS_CONFIG cannot be written as JSON".into()])
}

fn binding(env: &Env, name: &str) -> JsValue {
    Reflect::get(env, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

/// Splits a request URL, `scheme://authority/path?query`, into those three
/// parts. workerd writes the `Host` header and the request target into it as
/// they came, unnormalized, so the engine sees the bytes Envoy would.
fn split_url(url: &str) -> (&str, &str, &str) {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    (scheme, authority, path)
}

/// One JSON line per denial, so a user can see why a browser was refused.
/// Written directly rather than through a `serde_json::Value` and its map:
/// the same bytes, with fewer allocations on every denial.
fn log_denial(policy: &Policy, decision: &Decision) {
    if let Some(denial) = &decision.denial {
        let text = |value: &str| serde_json::to_string(value).unwrap_or_default();
        console_log!(
            r#"{{"level":"debug","outcome":"{}","policy":{},"reason":{}}}"#,
            decision.outcome.as_str(),
            text(policy.name()),
            text(&denial.to_string())
        );
    }
}

/// Sends the request on to `url`, and answers with the upstream's response,
/// edited by `edit` if any, its body streamed through (glue.js `forward`
/// says how). Redirects go back to the client as from any proxy.
fn forward(Forward { request, url, edit }: Forward) -> js_sys::Promise {
    match edit {
        None => send(&url, &request, &JsValue::UNDEFINED, 0, None),
        Some(Edit {
            policy,
            allow_origin,
        }) => EDITOR.with(|editor| {
            send(
                &url,
                &request,
                editor.as_ref(),
                policy.index(),
                allow_origin,
            )
        }),
    }
}

/// The header edits, as glue.js applies them, that policy number `policy`
/// makes to an upstream answer with header `lines` (`name\nvalue\n` each).
fn upstream_edits(policy: usize, allow_origin: Option<String>, lines: String) -> String {
    let setup = SETTINGS
        .get()
        .and_then(|settings| settings.setup.as_ref().ok());
    let Some(policy) = setup.and_then(|setup| setup.config.policies().get(policy)) else {
        return String::new();
    };
    edits_text(policy, allow_origin.as_deref(), line_pairs(&lines))
}

/// The edits `policy` makes to a response with header lines `upstream`:
/// `-name` for each header to delete, `+name` and a line with the value for
/// each to set.
fn edits_text<'h>(
    policy: &Policy,
    allow_origin: Option<&str>,
    upstream: impl Iterator<Item = (&'h [u8], &'h [u8])>,
) -> String {
    let edits = policy.edit_response(allow_origin, upstream);
    let mut text = String::new();
    for name in &edits.remove {
        text.push('-');
        text.push_str(&String::from_utf8_lossy(name));
        text.push('\n');
    }
    for (name, value) in edits.set.iter() {
        push_set(&mut text, name, value);
    }
    text
}

fn push_set(edits: &mut String, name: &str, value: &str) {
    edits.push('+');
    edits.push_str(name);
    edits.push('\n');
    edits.push_str(value);
    edits.push('\n');
}

/// The (name, value) pairs of header lines `name\nvalue\n...`.
fn line_pairs(lines: &str) -> impl Iterator<Item = (&[u8], &[u8])> {
    let mut parts = lines.split('\n').map(str::as_bytes);
    std::iter::from_fn(move || Some((parts.next()?, parts.next()?)))
}

/// The answer to every request while the config is refused: serving with
/// some default instead would silently change what browsers are allowed.
fn refused() -> Result<Response, JsValue> {
    let fields = Headers::new()?;
    fields.set("content-type", "text/plain; charset=utf-8")?;
    let init = ResponseInit::new();
    init.set_status(500);
    init.set_headers(&fields);
    Response::new_with_opt_str_and_init(Some(REFUSED_BODY), &init)
}
