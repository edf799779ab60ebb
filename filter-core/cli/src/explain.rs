//! `cors-filter explain`: what the filter does with one request, and why.

use crate::check::{allowed_methods, list, quote};
use crate::closest::{diagnose, Diagnosis};
use crate::request::HttpRequest;
use crate::source::Found;
use crate::{err, json_out, out, ExitStatus, Expect, ExplainArgs, Failure};
use filter_core::{Action, Config, Denial, Mode, Policy};
use serde::Serialize;
use std::fmt::Write;

#[derive(Default, Serialize)]
struct Explanation {
    request: RequestView,
    mode: Mode,
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

#[derive(Default, Serialize)]
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
#[derive(Default, Serialize)]
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

/// `cors-filter explain`: the request from the flags or a raw request on
/// standard input, explained under the one config CONFIG holds.
pub fn run(args: &ExplainArgs) -> Result<ExitStatus, Failure> {
    let request = match (&args.raw, &args.method, &args.url) {
        (None, Some(method), Some(url)) => HttpRequest::from_flags(method, url, &args.header),
        (None, ..) => {
            Err("explain needs --method and --url, or - and a raw request on standard input".into())
        }
        _ if args.config.path == "-" => {
            Err("the config and the request cannot both come from standard input".into())
        }
        _ => crate::read_input("-").and_then(|raw| HttpRequest::from_raw(&raw, &args.scheme)),
    };
    let request = request.map_err(Failure::usage)?;
    let found = crate::read_configs(&args.config)?;
    let [found]: [Found; 1] = found.try_into().map_err(|found: Vec<Found>| {
        let (path, count, names) = (&args.config.path, found.len(), crate::names(&found));
        Failure::usage(format!(
            "{path} holds {count} configs ({names}): pick one with --select"
        ))
    })?;
    let config = match Config::from_json(&found.json) {
        Ok(config) => config,
        Err(errors) => {
            err(&format!(
                "refused: the filter will not run with this config\n{errors}\n"
            ));
            return Ok(ExitStatus::Refused);
        }
    };
    let explanation = explain(&config, &request);
    if args.json {
        json_out(&explanation);
    } else {
        out(&render(&explanation));
    }
    let Some(expect) = args.expect else {
        return Ok(ExitStatus::Ok);
    };
    let got = match explanation.outcome {
        Some("preflight_allowed" | "actual_allowed") => Some(Expect::Allowed),
        Some(_) if explanation.denial.is_some() => Some(Expect::Denied),
        _ => None,
    };
    if got == Some(expect) {
        return Ok(ExitStatus::Ok);
    }
    // The name clap parsed it from: `allowed` or `denied`.
    let wanted = clap::ValueEnum::to_possible_value(&expect).unwrap_or_default();
    err(&format!(
        "cors-filter: expected {}, but the outcome is {}\n",
        wanted.get_name(),
        explanation.outcome.unwrap_or("none: no policy applies")
    ));
    Ok(ExitStatus::Unexpected)
}

fn explain(config: &Config, request: &HttpRequest) -> Explanation {
    let engine_request = request.engine_request();
    let models = &config.plugin_config().policies;
    let mut explanation = Explanation {
        request: RequestView {
            method: request.method.clone(),
            url: request.url(),
        },
        mode: config.plugin_config().mode,
        preflight: engine_request.is_preflight(),
        answer: Answer {
            kind: "untouched",
            ..Answer::default()
        },
        ..Explanation::default()
    };
    let Some(policy) = config.policy_for(request.authority.as_bytes(), request.path.as_bytes())
    else {
        explanation.unmatched = (config.policies().iter())
            .map(|policy| Unmatched {
                policy: policy.name().to_string(),
                index: policy.index(),
                reason: outside(policy, request),
            })
            .collect();
        return explanation;
    };
    let model = &models[policy.index()];
    explanation.policy = Some(PolicyRef {
        name: policy.name().to_string(),
        index: policy.index(),
    });
    let decision = policy.decide(&engine_request);
    explanation.outcome = Some(decision.outcome.as_str());
    let enforced = answer(policy, &decision.action);
    if decision.shadow {
        explanation.answer.kind = "pass";
        explanation.enforce = Some(enforced);
    } else {
        explanation.answer = enforced;
    }
    let Some(denial) = decision.denial else {
        return explanation;
    };
    explanation.denial = Some(denial_view(&denial));
    let hint = match denial {
        Denial::Origin(origin) => {
            explanation.closest_origin = Some(diagnose(origin, &model.allow_origins));
            return explanation;
        }
        Denial::Method(method) => {
            let allowed = allowed_methods(model);
            let method = String::from_utf8_lossy(method);
            let hint = match allowed.iter().find(|m| m.eq_ignore_ascii_case(&method)) {
                Some(listed) => format!("methods compare byte for byte, as browsers compare them: \"{method}\" is not \"{listed}\". Browsers uppercase only DELETE, GET, HEAD, OPTIONS, POST and PUT, so fetch(url, {{method: \"{method}\"}}) sends \"{method}\": send \"{listed}\" from the page"),
                None => format!("add \"{method}\" to allow_methods, or stop using it from the page"),
            };
            explanation.allowed_methods = Some(allowed);
            hint
        }
        Denial::Header(name) => {
            explanation.allowed_headers = Some(model.allow_headers.clone());
            let name = String::from_utf8_lossy(name);
            if name.eq_ignore_ascii_case("authorization")
                && model.allow_headers.iter().any(|h| h == "*")
            {
                "\"*\" in allow_headers covers every name but Authorization, which must be listed by name (as the Fetch Standard rules)".to_string()
            } else if !filter_core::is_token(name.as_bytes()) {
                format!("\"{name}\" is not a header name: the Access-Control-Request-Headers value is malformed")
            } else {
                format!("add \"{name}\" to allow_headers, or stop sending it from the page")
            }
        }
    };
    explanation.hints.push(hint);
    explanation
}

/// Why `policy` does not take the request: its hosts or its paths.
fn outside(policy: &Policy, request: &HttpRequest) -> String {
    let path = request.path.split(['?', '#']).next().unwrap_or_default();
    match policy.matches(request.authority.as_bytes(), request.path.as_bytes()) {
        (false, _) => {
            let host = quote(&request.host().to_ascii_lowercase());
            format!("host {host} is not in match.hosts")
        }
        (true, false) => format!("path {} is not in match.paths", quote(path)),
        (true, true) => "its match fits, yet the filter did not pick it".to_string(),
    }
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
            ..Answer::default()
        },
        Action::Forward { allow_origin } => {
            let edits = policy.edit_response(*allow_origin, std::iter::empty());
            Answer {
                kind: "forward",
                headers: pairs(&edits.set),
                removes_upstream_cors_headers: true,
                ..Answer::default()
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

fn render(e: &Explanation) -> String {
    let mut out = format!("request:  {} {}\n", e.request.method, e.request.url);
    let Some(policy) = &e.policy else {
        out.push_str("policy:   none: no policy's match fits, so the request passes through untouched (no header added or removed)\n");
        for u in &e.unmatched {
            let name = quote(&u.policy);
            let _ = writeln!(out, "  policy {name} (policies[{}]): {}", u.index, u.reason);
        }
        return out;
    };
    let _ = writeln!(
        out,
        "policy:   {} (policies[{}])",
        quote(&policy.name),
        policy.index
    );
    out.push_str(if e.preflight {
        "kind:     preflight (OPTIONS with Origin and Access-Control-Request-Method)\n"
    } else {
        "kind:     actual request\n"
    });
    let _ = writeln!(out, "outcome:  {}", e.outcome.unwrap_or_default());
    if let Some(denial) = &e.denial {
        let _ = writeln!(out, "reason:   {}", denial.message);
    }
    if let Some(closest) = &e.closest_origin {
        match (&closest.entry, closest.index) {
            (Some(entry), Some(i)) => {
                writeln!(out, "closest:  allow_origins[{i}] {}", quote(entry))
            }
            _ => writeln!(out, "closest:  no entry is near"),
        }
        .unwrap_or_default();
        for reason in &closest.reasons {
            let _ = writeln!(out, "  - {}", reason.message);
        }
    }
    if let Some(methods) = &e.allowed_methods {
        let _ = writeln!(out, "allowed methods: {}", methods.join(", "));
    }
    if let Some(headers) = &e.allowed_headers {
        let _ = writeln!(out, "allowed request headers: {}", list(headers));
    }
    for hint in &e.hints {
        let _ = writeln!(out, "hint:     {hint}");
    }
    for (answer, prefix) in [
        (Some(&e.answer), ""),
        (e.enforce.as_ref(), "in enforce mode, "),
    ] {
        let Some(answer) = answer else { continue };
        let what = match (answer.kind, answer.status) {
            ("respond", Some(status)) => &format!("{status} at the edge; the request is not forwarded, the body is empty"),
            ("forward", _) => "forwarded; on the way back the filter removes the upstream's access-control-* headers and sets these (shown for an empty upstream response)",
            _ => "none: mode is shadow, so the request and the response pass unchanged",
        };
        let _ = writeln!(out, "answer:   {prefix}{what}");
        for [name, value] in &answer.headers {
            let _ = writeln!(out, "  {name}: {value}");
        }
    }
    out
}
