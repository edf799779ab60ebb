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

use filter_core::{Action, Config, Decision, Policy, Request as CorsRequest};
use limits::RateLimiter;
use std::sync::OnceLock;
use wasm_bindgen::prelude::{wasm_bindgen, Closure};
use worker::js_sys::{self, Array, Reflect, JSON};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::web_sys::{Headers, Request, Response, ResponseInit, WorkerGlobalScope};
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

/// The status of an accepted WebSocket upgrade.
const SWITCHING_PROTOCOLS: u16 = 101;

/// Every request, as worker-build's shim hands it over (with the bindings
/// and the execution context, unused).
///
/// A plain function, not `#[event(fetch)]`, whose handler is a Rust future:
/// wasm-bindgen drives one with a Promise, a task queue, microtasks and two
/// closures per `await`, a large share of workerd's CPU per request
/// (scripts/bench-worker.sh measures it). An answer made here (a preflight,
/// a rejection) returns as it is; a forwarded request returns the fetch's
/// Promise, its outcome handled by one callback. An error from the
/// runtime's API (none is expected) is thrown, and the runtime answers 500.
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
    let url = request.url();
    let (scheme, authority, path) = split_url(&url);
    let Some(policy) = setup
        .config
        .policy_for(authority.as_bytes(), path.as_bytes())
    else {
        return Ok(Handled::Forward(Forward {
            url: settings.forward_url(&url, path),
            request,
            edit: None,
        }));
    };

    let method = request.method();
    let headers = request.headers();
    // The runtime decodes header bytes as UTF-8 for JS, an invalid byte as
    // U+FFFD: that can only turn a value that matches nothing into another.
    let header = |name| headers.get(name).ok().flatten();
    let origin = header("origin");
    let request_method = header("access-control-request-method");
    let request_headers = header("access-control-request-headers");
    let private_network = header("access-control-request-private-network");
    let sec_fetch_site = header("sec-fetch-site");
    let cors_request = CorsRequest {
        method: method.as_bytes(),
        scheme: scheme.as_bytes(),
        authority: authority.as_bytes(),
        origin: origin.as_deref().map(str::as_bytes),
        access_control_request_method: request_method.as_deref().map(str::as_bytes),
        access_control_request_headers: request_headers.as_deref().map(str::as_bytes),
        access_control_request_private_network: private_network.as_deref().map(str::as_bytes),
        sec_fetch_site: sec_fetch_site.as_deref().map(str::as_bytes),
    };
    let decision = policy.decide(&cors_request);
    log_denial(policy, &decision);
    if settings.analytics {
        let mode = if setup.config.is_shadow() {
            "shadow"
        } else {
            "enforce"
        };
        analytics::record(env, policy, decision.outcome, mode);
    }
    let edit = match decision.action {
        Action::Respond { status, headers } => {
            return Ok(Handled::Answer(answer(status, headers.iter())?));
        }
        Action::Pass => None,
        Action::Forward { allow_origin } => Some(Edit {
            policy,
            allow_origin: allow_origin.map(String::from),
        }),
    };
    let then = Forward {
        url: settings.forward_url(&url, path),
        request,
        edit,
    };
    match &setup.rate_limiters[policy.index()] {
        Some(name) if !cors_request.is_preflight() => Ok(Handled::Limit {
            limiter: binding(env, name).unchecked_into(),
            // Cloudflare sets it on every request from a client.
            key: header("cf-connecting-ip").unwrap_or_default(),
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
fn log_denial(policy: &Policy, decision: &Decision) {
    if let Some(denial) = &decision.denial {
        let line = serde_json::json!({
            "level": "debug",
            "policy": policy.name(),
            "outcome": decision.outcome.as_str(),
            "reason": denial.to_string(),
        });
        console_log!("{line}");
    }
}

/// Sends the request on to `url`, and answers with the upstream's response,
/// edited by `edit` if any, its body streamed through. The request itself is
/// the fetch's init: the runtime takes a Request there and copies its
/// method, headers, body stream and redirect mode, which for an incoming
/// request is `manual`, so redirects go back to the client as from any
/// proxy. An unreachable upstream is answered 502, which still gets the
/// policy's headers like any response.
fn forward(Forward { request, url, edit }: Forward) -> js_sys::Promise {
    let global: WorkerGlobalScope = js_sys::global().unchecked_into();
    let sent = global.fetch_with_str_and_init(&url, request.unchecked_ref());
    // One callback for both outcomes: it runs exactly once, which frees it.
    let settle = Closure::once_into_js(move |outcome: JsValue| -> Result<JsValue, JsValue> {
        let upstream = match outcome.dyn_into::<Response>() {
            Ok(upstream) => upstream,
            Err(error) => {
                console_error!("forwarding to {url} failed: {error:?}");
                answer(502, [])?
            }
        };
        Ok(match edit {
            // A WebSocket upgrade goes back as the upstream's own Response:
            // its `webSocket` is the connection, which a rebuilt Response
            // would drop. Browsers apply no CORS to WebSockets anyway.
            Some(edit) if upstream.status() != SWITCHING_PROTOCOLS => edit.apply(&upstream)?,
            _ => upstream,
        }
        .into())
    });
    sent.unchecked_into::<Settling>().then(&settle, &settle)
}

#[wasm_bindgen]
extern "C" {
    /// A Promise, for a `then` that takes any two functions: js-sys's
    /// takes closures that live until dropped, not until called.
    #[wasm_bindgen(extends = js_sys::Object)]
    type Settling;
    #[wasm_bindgen(method)]
    fn then(this: &Settling, on_fulfilled: &JsValue, on_rejected: &JsValue) -> js_sys::Promise;
}

impl Edit {
    /// The upstream's response with the policy's CORS headers in place of
    /// its own, its body streamed through.
    fn apply(&self, upstream: &Response) -> Result<Response, JsValue> {
        // A fetched response's headers are immutable. A Response made with
        // the upstream's as its init (the runtime takes a Response there)
        // copies its status, status text and every header line, repeated
        // `Set-Cookie` included, into headers that can be changed.
        let init: &ResponseInit = upstream.unchecked_ref();
        let response =
            Response::new_with_opt_readable_stream_and_init(upstream.body().as_ref(), init)?;
        let headers = response.headers();
        let lines = header_lines(&headers);
        self.apply_to(&headers, line_pairs(&lines))?;
        Ok(response)
    }

    /// Edits `headers`, whose lines are `lines`, as the policy says.
    fn apply_to<'h>(
        &self,
        headers: &Headers,
        lines: impl Iterator<Item = (&'h [u8], &'h [u8])>,
    ) -> Result<(), JsValue> {
        let edits = self
            .policy
            .edit_response(self.allow_origin.as_deref(), lines);
        for name in &edits.remove {
            headers.delete(&String::from_utf8_lossy(name))?;
        }
        for (name, value) in edits.set.iter() {
            headers.set(name, value)?;
        }
        Ok(())
    }
}

/// The header lines, fetched in one call rather than a few per line: names
/// (lowercase) and values alternate, joined by newlines, which a Headers
/// object never holds.
fn header_lines(headers: &Headers) -> String {
    Array::from(&headers.entries()).flat(1).join("\n").into()
}

/// The (name, value) pairs of [`header_lines`].
fn line_pairs(lines: &str) -> impl Iterator<Item = (&[u8], &[u8])> {
    let mut parts = lines.split('\n').map(str::as_bytes);
    std::iter::from_fn(move || Some((parts.next()?, parts.next()?)))
}

/// A response made here, with an empty body.
fn answer<'n, 'v>(
    status: u16,
    headers: impl IntoIterator<Item = (&'n str, &'v str)>,
) -> Result<Response, JsValue> {
    let init = ResponseInit::new();
    init.set_status(status);
    let response = Response::new_with_opt_str_and_init(None, &init)?;
    let fields = response.headers();
    for (name, value) in headers {
        fields.set(name, value)?;
    }
    Ok(response)
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
