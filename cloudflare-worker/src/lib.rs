//! The CORS filter as a Cloudflare Worker: thin glue around `filter-core`.
//!
//! The plugin JSON comes from the `CORS_CONFIG` binding (a JSON string, or a
//! JSON object such as a wrangler `[vars]` table) and is compiled once per
//! isolate. For each request the Worker asks the engine what to do and does
//! it: preflights and rejections are answered here and never reach the
//! origin; everything else goes to `ORIGIN_URL` (or, when that is unset, to
//! the request's own URL) and comes back with the policy's CORS headers.

use filter_core::{Action, Config, Decision, Policy, Request as CorsRequest};
use std::sync::OnceLock;
use worker::js_sys::{self, Array, Reflect, JSON};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::web_sys::{
    Headers, Request, RequestInit, RequestRedirect, Response, ResponseInit, WorkerGlobalScope,
};
use worker::{console_error, console_log, event, Context, Env};

/// The bindings, read on an isolate's first request. They cannot change for
/// the isolate's lifetime, so compiling the config again per request would
/// only cost time.
struct Settings {
    /// The compiled config, or the lines saying why it was refused.
    config: Result<Config, Vec<String>>,
    /// Where requests go instead of their own URL: `scheme://host[:port]`.
    origin_url: Option<String>,
}

static SETTINGS: OnceLock<Settings> = OnceLock::new();

const REFUSED_BODY: &str = "CORS configuration refused; see the Worker's logs\n";

/// Every request. A refused config is logged again on each one, so that a
/// `wrangler tail` started after the isolate's first request still says why.
#[event(fetch)]
async fn fetch(request: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    let settings = SETTINGS.get_or_init(|| Settings::load(&env));
    let config = match &settings.config {
        Ok(config) => config,
        Err(lines) => {
            for line in lines {
                console_error!("CORS_CONFIG refused: {line}");
            }
            return Ok(refused()?);
        }
    };
    let url = request.url();
    let (scheme, authority, path) = split_url(&url);
    let origin_url = settings.origin_url.as_deref();
    let Some(policy) = config.policy_for(authority.as_bytes(), path.as_bytes()) else {
        return forward(&request, origin_url, path).await;
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
    let decision = policy.decide(&CorsRequest {
        method: method.as_bytes(),
        scheme: scheme.as_bytes(),
        authority: authority.as_bytes(),
        origin: origin.as_deref().map(str::as_bytes),
        access_control_request_method: request_method.as_deref().map(str::as_bytes),
        access_control_request_headers: request_headers.as_deref().map(str::as_bytes),
        access_control_request_private_network: private_network.as_deref().map(str::as_bytes),
        sec_fetch_site: sec_fetch_site.as_deref().map(str::as_bytes),
    });
    log_denial(policy, &decision);
    match decision.action {
        Action::Respond { status, headers } => Ok(answer(status, headers.iter())?),
        Action::Pass => forward(&request, origin_url, path).await,
        Action::Forward { allow_origin } => {
            let upstream = forward(&request, origin_url, path).await?;
            Ok(edit(policy, allow_origin, &upstream)?)
        }
    }
}

impl Settings {
    fn load(env: &Env) -> Settings {
        let config = config_json(env).and_then(|json| {
            Config::from_json(json.as_bytes())
                .map_err(|errors| errors.iter().map(ToString::to_string).collect())
        });
        let origin_url = binding(env, "ORIGIN_URL")
            .as_string()
            .filter(|url| !url.is_empty());
        Settings { config, origin_url }
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

/// Sends the request on with its method, headers and body stream. Redirects
/// go back to the client, as from any proxy. An unreachable upstream is
/// answered 502, which still gets the policy's headers like any response.
async fn forward(
    request: &Request,
    origin_url: Option<&str>,
    path: &str,
) -> worker::Result<Response> {
    let url = match origin_url {
        Some(base) => format!("{}{path}", base.trim_end_matches('/')),
        None => request.url(),
    };
    let init = RequestInit::new();
    init.set_method(&request.method());
    init.set_headers(&request.headers());
    init.set_body(&request.body().map_or(JsValue::NULL, JsValue::from));
    init.set_redirect(RequestRedirect::Manual);
    let sent = async {
        let outbound = Request::new_with_str_and_init(&url, &init)?;
        let global: WorkerGlobalScope = js_sys::global().unchecked_into();
        JsFuture::from(global.fetch_with_request(&outbound))
            .await?
            .dyn_into::<Response>()
    };
    match sent.await {
        Ok(response) => Ok(response),
        Err(error) => {
            console_error!("forwarding to {url} failed: {error:?}");
            Ok(answer(502, [])?)
        }
    }
}

/// The upstream's response with the policy's CORS headers in place of its
/// own, its body streamed through.
fn edit(
    policy: &Policy,
    allow_origin: Option<&str>,
    upstream: &Response,
) -> Result<Response, JsValue> {
    let lines = header_lines(&upstream.headers());
    let edits = policy.edit_response(
        allow_origin,
        lines
            .iter()
            .map(|(name, value)| (name.as_bytes(), value.as_bytes())),
    );
    // A response's headers are immutable once fetched; a copy keeps every
    // line, repeated `Set-Cookie` included.
    let headers = Headers::new_with_headers(&upstream.headers())?;
    for name in &edits.remove {
        headers.delete(&String::from_utf8_lossy(name))?;
    }
    for (name, value) in edits.set.iter() {
        headers.set(name, value)?;
    }
    let init = ResponseInit::new();
    init.set_status(upstream.status());
    init.set_status_text(&upstream.status_text());
    init.set_headers(&headers);
    Response::new_with_opt_readable_stream_and_init(upstream.body().as_ref(), &init)
}

/// The upstream's header lines as (lowercase name, value).
fn header_lines(headers: &Headers) -> Vec<(String, String)> {
    headers
        .entries()
        .into_iter()
        .filter_map(|entry| {
            let pair = entry.ok()?.dyn_into::<Array>().ok()?;
            Some((pair.get(0).as_string()?, pair.get(1).as_string()?))
        })
        .collect()
}

/// A response made here, with an empty body.
fn answer<'n, 'v>(
    status: u16,
    headers: impl IntoIterator<Item = (&'n str, &'v str)>,
) -> Result<Response, JsValue> {
    let fields = Headers::new()?;
    for (name, value) in headers {
        fields.set(name, value)?;
    }
    let init = ResponseInit::new();
    init.set_status(status);
    init.set_headers(&fields);
    Response::new_with_opt_str_and_init(None, &init)
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
