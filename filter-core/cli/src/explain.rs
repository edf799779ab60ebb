//! `cors-filter explain`: what the filter does with one request, and why.

use crate::closest::{diagnose, Diagnosis};
use crate::coverage::outside;
use crate::request::HttpRequest;
use crate::view::{self, PolicyView, SAFELISTED_METHODS};
use crate::{ExitStatus, Output};
use filter_core::{Action, Config, Denial, Policy};
use serde::Serialize;
use serde_json::Value;

#[derive(Serialize)]
struct Explanation {
    request: RequestView,
    mode: &'static str,
    policy: Option<PolicyRef>,
    /// When no policy applies: why each one does not.
    unmatched: Vec<Unmatched>,
    preflight: bool,
    outcome: Option<&'static str>,
    /// What the filter does, in the config's mode.
    answer: Answer,
    /// In shadow mode: what the filter would do in enforce mode.
    enforce: Option<Answer>,
    denial: Option<DenialView>,
    closest_origin: Option<Diagnosis>,
    /// For a method denial, the methods the policy allows.
    allowed_methods: Option<Vec<String>>,
    /// For a header denial, the request headers the policy allows.
    allowed_headers: Option<Vec<String>>,
    hints: Vec<String>,
}

#[derive(Serialize)]
struct RequestView {
    method: String,
    url: String,
}

#[derive(Serialize)]
struct PolicyRef {
    name: String,
    index: usize,
}

#[derive(Serialize)]
struct Unmatched {
    policy: String,
    index: usize,
    reason: String,
}

/// What happens on the wire.
#[derive(Serialize)]
struct Answer {
    /// `respond` (answered at the edge), `forward` (sent on, response
    /// edited), `pass` (shadow mode: nothing changes) or `untouched` (no
    /// policy applies).
    kind: &'static str,
    /// For `respond`: 204 or 403.
    status: Option<u16>,
    /// The headers the filter sends (`respond`) or sets on an empty
    /// upstream response (`forward`), names lowercase, in the filter's order.
    headers: Vec<[String; 2]>,
    /// For `forward`: every `access-control-*` header of the upstream's
    /// response is removed before the headers above are set.
    removes_upstream_cors_headers: bool,
}

#[derive(Serialize)]
struct DenialView {
    /// `origin`, `method` or `header`.
    kind: &'static str,
    value: String,
    message: String,
}

pub fn run(json: &[u8], request: &HttpRequest, output: &mut Output) -> ExitStatus {
    let config = match Config::from_json(json) {
        Ok(config) => config,
        Err(errors) => {
            output.err(&format!(
                "refused: the filter will not run with this config\n{errors}\n"
            ));
            return ExitStatus::Refused;
        }
    };
    let document: Value = serde_json::from_slice(json).unwrap_or_default();
    let views = view::policies(&document);
    let explanation = explain(&config, &views, request);
    if output.json {
        output.json_out(&explanation);
    } else {
        output.out(&render(&explanation));
    }
    ExitStatus::Ok
}

fn explain(config: &Config, views: &[PolicyView], request: &HttpRequest) -> Explanation {
    let headers = request.engine_headers();
    let engine_request = request.engine_request(&headers);
    let preflight = engine_request.is_preflight();
    let mode = if config.is_shadow() {
        "shadow"
    } else {
        "enforce"
    };
    let mut explanation = Explanation {
        request: RequestView {
            method: request.method.clone(),
            url: request.url(),
        },
        mode,
        policy: None,
        unmatched: Vec::new(),
        preflight,
        outcome: None,
        answer: Answer {
            kind: "untouched",
            status: None,
            headers: Vec::new(),
            removes_upstream_cors_headers: false,
        },
        enforce: None,
        denial: None,
        closest_origin: None,
        allowed_methods: None,
        allowed_headers: None,
        hints: Vec::new(),
    };
    let Some(policy) = config.policy_for(request.authority.as_bytes(), request.path.as_bytes())
    else {
        explanation.unmatched = views
            .iter()
            .map(|v| Unmatched {
                policy: v.name.clone(),
                index: v.index,
                reason: outside(v, request.host(), &request.path)
                    .unwrap_or_else(|| "its match fits, yet the filter did not pick it".into()),
            })
            .collect();
        return explanation;
    };
    let view = &views[policy.index()];
    explanation.policy = Some(PolicyRef {
        name: policy.name().to_string(),
        index: policy.index(),
    });
    let decision = policy.decide(&engine_request);
    explanation.outcome = Some(decision.outcome.as_str());
    explanation.answer = match decision.to_carry_out() {
        Some(action) => answer(policy, action),
        None => Answer {
            kind: "pass",
            status: None,
            headers: Vec::new(),
            removes_upstream_cors_headers: false,
        },
    };
    if decision.shadow {
        explanation.enforce = Some(answer(policy, &decision.action));
    }
    if let Some(denial) = decision.denial {
        explanation.denial = Some(denial_view(&denial));
        match denial {
            Denial::Origin(origin) => {
                explanation.closest_origin = Some(diagnose(origin, &view.allow_origins));
            }
            Denial::Method(method) => {
                let allowed = allowed_methods(view);
                let method = String::from_utf8_lossy(method);
                if let Some(listed) = allowed.iter().find(|m| m.eq_ignore_ascii_case(&method)) {
                    explanation.hints.push(format!(
                        "methods compare byte for byte, as browsers compare them: \"{method}\" is not \"{listed}\". Browsers uppercase only DELETE, GET, HEAD, OPTIONS, POST and PUT, so fetch(url, {{method: \"{method}\"}}) sends \"{method}\": send \"{listed}\" from the page"
                    ));
                } else {
                    explanation.hints.push(format!(
                        "add \"{method}\" to allow_methods, or stop using it from the page"
                    ));
                }
                explanation.allowed_methods = Some(allowed);
            }
            Denial::Header(name) => {
                explanation.allowed_headers = Some(view.allow_headers.clone());
                let name = String::from_utf8_lossy(name).to_string();
                if name.eq_ignore_ascii_case("authorization")
                    && view.allow_headers.iter().any(|h| h == "*")
                {
                    explanation.hints.push(
                        "\"*\" in allow_headers covers every name but Authorization, which must be listed by name (as the Fetch Standard rules)".into(),
                    );
                } else if name.is_empty() || name.bytes().any(|b| !is_tchar(b)) {
                    explanation.hints.push(format!(
                        "\"{name}\" is not a header name: the Access-Control-Request-Headers value is malformed"
                    ));
                } else {
                    explanation.hints.push(format!(
                        "add \"{name}\" to allow_headers, or stop sending it from the page"
                    ));
                }
            }
        }
    }
    explanation
}

fn answer(policy: &Policy, action: &Action) -> Answer {
    let pairs = |headers: &filter_core::CorsHeaders| -> Vec<[String; 2]> {
        headers
            .iter()
            .map(|(name, value)| [name.to_string(), value.to_string()])
            .collect()
    };
    match action {
        Action::Respond { status, headers } => Answer {
            kind: "respond",
            status: Some(*status),
            headers: pairs(headers),
            removes_upstream_cors_headers: false,
        },
        Action::Forward { allow_origin } => {
            let edits = policy.edit_response(*allow_origin, std::iter::empty());
            Answer {
                kind: "forward",
                status: None,
                headers: pairs(&edits.set),
                removes_upstream_cors_headers: true,
            }
        }
    }
}

fn denial_view(denial: &Denial) -> DenialView {
    let (kind, value) = match denial {
        Denial::Origin(v) => ("origin", v),
        Denial::Method(v) => ("method", v),
        Denial::Header(v) => ("header", v),
    };
    DenialView {
        kind,
        value: String::from_utf8_lossy(value).to_string(),
        message: denial.to_string(),
    }
}

fn allowed_methods(view: &PolicyView) -> Vec<String> {
    let mut methods = view.allow_methods.clone();
    for safelisted in SAFELISTED_METHODS {
        if !methods.iter().any(|m| m == safelisted) {
            methods.push(safelisted.to_string());
        }
    }
    methods
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn render(e: &Explanation) -> String {
    let mut out = format!("request:  {} {}\n", e.request.method, e.request.url);
    let Some(policy) = &e.policy else {
        out.push_str("policy:   none: no policy's match fits, so the request passes through untouched (no header added or removed)\n");
        for u in &e.unmatched {
            out.push_str(&format!(
                "  policy {} (policies[{}]): {}\n",
                Value::from(u.policy.as_str()),
                u.index,
                u.reason
            ));
        }
        return out;
    };
    out.push_str(&format!(
        "policy:   {} (policies[{}])\n",
        Value::from(policy.name.as_str()),
        policy.index
    ));
    out.push_str(if e.preflight {
        "kind:     preflight (OPTIONS with Origin and Access-Control-Request-Method)\n"
    } else {
        "kind:     actual request\n"
    });
    if let Some(outcome) = e.outcome {
        out.push_str(&format!("outcome:  {outcome}\n"));
    }
    if let Some(denial) = &e.denial {
        out.push_str(&format!("reason:   {}\n", denial.message));
    }
    if let Some(closest) = &e.closest_origin {
        match (&closest.entry, closest.index) {
            (Some(entry), Some(index)) => out.push_str(&format!(
                "closest:  allow_origins[{index}] {}\n",
                Value::from(entry.as_str())
            )),
            _ => out.push_str("closest:  no entry is near\n"),
        }
        for reason in &closest.reasons {
            out.push_str(&format!("  - {}\n", reason.message));
        }
    }
    if let Some(methods) = &e.allowed_methods {
        out.push_str(&format!("allowed methods: {}\n", methods.join(", ")));
    }
    if let Some(headers) = &e.allowed_headers {
        let list = if headers.is_empty() {
            "(none)".to_string()
        } else {
            headers.join(", ")
        };
        out.push_str(&format!("allowed request headers: {list}\n"));
    }
    for hint in &e.hints {
        out.push_str(&format!("hint:     {hint}\n"));
    }
    render_answer(&mut out, &e.answer, "");
    if let Some(enforce) = &e.enforce {
        render_answer(&mut out, enforce, "in enforce mode, ");
    }
    out
}

fn render_answer(out: &mut String, answer: &Answer, prefix: &str) {
    let what = match (answer.kind, answer.status) {
        ("respond", Some(status)) => {
            format!("{status} at the edge; the request is not forwarded, the body is empty")
        }
        ("forward", _) => "forwarded; on the way back the filter removes the upstream's access-control-* headers and sets these (shown for an empty upstream response)".to_string(),
        _ => "none: mode is shadow, so the request and the response pass unchanged".to_string(),
    };
    out.push_str(&format!("answer:   {prefix}{what}\n"));
    for [name, value] in &answer.headers {
        out.push_str(&format!("  {name}: {value}\n"));
    }
}
