//! The CORS decision for one request, and the edits to the response.

use crate::config::Policy;
use crate::headers::CorsHeaders;
use crate::origin::{is_same_origin, AllowOrigins};
use crate::vary::{self, VaryMerge};
use alloc::borrow::Cow;
use alloc::vec::Vec;
use core::fmt;

/// What the engine reads of a request, as the bytes that arrived. A header
/// sent on several lines is given joined with commas; `None` is absent.
#[derive(Debug, Clone, Copy, Default)]
pub struct Request<'a> {
    /// The request method, as sent.
    pub method: &'a [u8],
    /// `http` or `https`: the URL scheme the request was sent to.
    pub scheme: &'a [u8],
    /// `host[:port]` the request was sent to (`:authority`, `Host`).
    pub authority: &'a [u8],
    /// `Origin`.
    pub origin: Option<&'a [u8]>,
    /// `Access-Control-Request-Method`.
    pub access_control_request_method: Option<&'a [u8]>,
    /// `Access-Control-Request-Headers`.
    pub access_control_request_headers: Option<&'a [u8]>,
    /// `Access-Control-Request-Private-Network`.
    pub access_control_request_private_network: Option<&'a [u8]>,
    /// `Sec-Fetch-Site`.
    pub sec_fetch_site: Option<&'a [u8]>,
}

impl Request<'_> {
    /// `OPTIONS` with `Origin` and `Access-Control-Request-Method`: the
    /// browser asking permission before the actual request.
    pub fn is_preflight(&self) -> bool {
        self.method == b"OPTIONS"
            && self.origin.is_some()
            && self.access_control_request_method.is_some()
    }
}

/// The engine's answer for a request in a policy's scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision<'a> {
    /// What was decided, for counters.
    pub outcome: Outcome,
    /// Why a request was denied, for the log.
    pub denial: Option<Denial<'a>>,
    /// What enforce mode does; in shadow mode, what it would do.
    pub action: Action<'a>,
    /// Shadow mode holds the action back: the adapter forwards the request
    /// and leaves the response alone.
    pub shadow: bool,
}

impl<'a> Decision<'a> {
    /// The action the adapter carries out: `None` in shadow mode, where it
    /// forwards the request and leaves the response alone.
    pub fn to_carry_out(&self) -> Option<&Action<'a>> {
        (!self.shadow).then_some(&self.action)
    }
}

/// Every decision falls in one of these, counted per policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Preflight answered 204.
    PreflightAllowed,
    /// Preflight refused: the origin is not allowed.
    PreflightDeniedOrigin,
    /// Preflight refused: the method is not allowed.
    PreflightDeniedMethod,
    /// Preflight refused: a requested header is not allowed.
    PreflightDeniedHeaders,
    /// Actual request from an allowed origin (any request under `*`).
    ActualAllowed,
    /// Actual request without `Origin`.
    ActualNoOrigin,
    /// `Origin` not allowed, but the request is same-origin.
    ActualSameOrigin,
    /// `Origin` not allowed: forwarded without CORS headers.
    ActualDenied,
    /// `Origin` not allowed: answered 403 (`disallowed: "reject"`).
    ActualRejected,
}

impl Outcome {
    /// Every outcome, for registering counters up front.
    pub const ALL: [Outcome; 9] = [
        Outcome::PreflightAllowed,
        Outcome::PreflightDeniedOrigin,
        Outcome::PreflightDeniedMethod,
        Outcome::PreflightDeniedHeaders,
        Outcome::ActualAllowed,
        Outcome::ActualNoOrigin,
        Outcome::ActualSameOrigin,
        Outcome::ActualDenied,
        Outcome::ActualRejected,
    ];

    /// The outcome's name in metrics, logs and test vectors.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::PreflightAllowed => "preflight_allowed",
            Outcome::PreflightDeniedOrigin => "preflight_denied_origin",
            Outcome::PreflightDeniedMethod => "preflight_denied_method",
            Outcome::PreflightDeniedHeaders => "preflight_denied_headers",
            Outcome::ActualAllowed => "actual_allowed",
            Outcome::ActualNoOrigin => "actual_no_origin",
            Outcome::ActualSameOrigin => "actual_same_origin",
            Outcome::ActualDenied => "actual_denied",
            Outcome::ActualRejected => "actual_rejected",
        }
    }

    /// Position in [`Outcome::ALL`], for counter arrays.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// The request value that made the decision a denial.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial<'a> {
    /// `Origin` matches no `allow_origins` entry.
    Origin(&'a [u8]),
    /// `Access-Control-Request-Method` is not allowed.
    Method(&'a [u8]),
    /// A name in `Access-Control-Request-Headers` is not allowed, or not a header name.
    Header(&'a [u8]),
}

/// `origin "https://evil.example" is not in allow_origins`. Request bytes are
/// escaped and cut short, so a hostile value cannot forge log lines.
impl fmt::Display for Denial<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (what, value, list) = match *self {
            Denial::Origin(v) => ("origin", v, "allow_origins"),
            Denial::Method(v) => ("method", v, "allow_methods"),
            Denial::Header(v) => ("request header", v, "allow_headers"),
        };
        write!(f, "{what} \"{}\" is not in {list}", Escaped(value))
    }
}

struct Escaped<'a>(&'a [u8]);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 100;
        for &b in self.0.iter().take(SHOWN) {
            if b.is_ascii_graphic() && b != b'"' && b != b'\\' || b == b' ' {
                write!(f, "{}", b as char)?;
            } else {
                write!(f, "\\x{b:02x}")?;
            }
        }
        if self.0.len() > SHOWN {
            write!(f, "…({} bytes)", self.0.len())?;
        }
        Ok(())
    }
}

/// What the adapter must do with the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action<'a> {
    /// Answer at the edge with this status and these headers, and an empty
    /// body; the request never reaches the upstream.
    Respond {
        /// 204 or 403.
        status: u16,
        /// The CORS headers of the answer.
        headers: CorsHeaders<'a>,
    },
    /// Forward the request. When the response comes back, apply
    /// [`Policy::edit_response`] with this `allow_origin`.
    Forward {
        /// The `Access-Control-Allow-Origin` to send, if any.
        allow_origin: Option<&'a str>,
    },
}

/// How a response from the upstream must change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseEdits<'a, 'h> {
    /// Upstream header names to remove: every `Access-Control-*`.
    pub remove: Vec<&'h [u8]>,
    /// Headers to set, each replacing every line of that name.
    pub set: CorsHeaders<'a>,
}

impl Policy {
    /// Decides what to do with a request that this policy's `match` fits.
    pub fn decide<'a>(&'a self, request: &Request<'a>) -> Decision<'a> {
        let (outcome, denial, action) =
            match (request.origin, request.access_control_request_method) {
                (Some(origin), Some(method)) if request.is_preflight() => {
                    self.preflight(origin, method, request)
                }
                _ => self.actual(request),
            };
        Decision {
            outcome,
            denial,
            action,
            shadow: self.shadow,
        }
    }

    fn preflight<'a>(
        &'a self,
        origin: &'a [u8],
        method: &'a [u8],
        request: &Request<'a>,
    ) -> Verdict<'a> {
        let deny = |outcome, denial| {
            let headers = self.preflight_vary();
            (
                outcome,
                Some(denial),
                Action::Respond {
                    status: 403,
                    headers,
                },
            )
        };
        let Some(allow_origin) = self.origins.allow_origin(origin) else {
            return deny(Outcome::PreflightDeniedOrigin, Denial::Origin(origin));
        };
        let Some(allow_methods) = self.methods.allow(method) else {
            return deny(Outcome::PreflightDeniedMethod, Denial::Method(method));
        };
        let allow_headers = match request.access_control_request_headers {
            None => None,
            Some(requested) => match self.headers.check(requested) {
                Ok(names) => names,
                Err(name) => return deny(Outcome::PreflightDeniedHeaders, Denial::Header(name)),
            },
        };
        let asks_private_network = request.access_control_request_private_network == Some(b"true");
        let headers = CorsHeaders {
            allow_origin: Some(allow_origin),
            allow_credentials: self.credentials,
            allow_methods: Some(allow_methods),
            allow_headers,
            max_age: self.max_age.as_deref(),
            allow_private_network: self.private_network && asks_private_network,
            ..self.preflight_vary()
        };
        let action = Action::Respond {
            status: 204,
            headers,
        };
        (Outcome::PreflightAllowed, None, action)
    }

    fn actual<'a>(&'a self, request: &Request<'a>) -> Verdict<'a> {
        let forward = |allow_origin| Action::Forward { allow_origin };
        let Some(origin) = request.origin else {
            let any = matches!(self.origins, AllowOrigins::Any).then_some("*");
            return (Outcome::ActualNoOrigin, None, forward(any));
        };
        if let Some(allow_origin) = self.origins.allow_origin(origin) {
            return (Outcome::ActualAllowed, None, forward(Some(allow_origin)));
        }
        if is_same_origin(origin, request.scheme, request.authority)
            || request.sec_fetch_site == Some(b"same-origin")
        {
            return (Outcome::ActualSameOrigin, None, forward(None));
        }
        let denial = Some(Denial::Origin(origin));
        if self.reject {
            let headers = CorsHeaders {
                vary: Some(Cow::Borrowed("Origin")),
                ..CorsHeaders::default()
            };
            let action = Action::Respond {
                status: 403,
                headers,
            };
            return (Outcome::ActualRejected, denial, action);
        }
        (Outcome::ActualDenied, denial, forward(None))
    }

    fn preflight_vary(&self) -> CorsHeaders<'static> {
        CorsHeaders {
            vary: Some(Cow::Borrowed(vary::preflight(self.private_network))),
            ..CorsHeaders::default()
        }
    }

    /// The changes to the upstream's response to a forwarded request, given
    /// the `allow_origin` of [`Action::Forward`] and the upstream's headers.
    pub fn edit_response<'a, 'h>(
        &'a self,
        allow_origin: Option<&'a str>,
        upstream: impl IntoIterator<Item = (&'h [u8], &'h [u8])>,
    ) -> ResponseEdits<'a, 'h> {
        let mut remove = Vec::new();
        let mut vary = VaryMerge::Absent;
        for (name, value) in upstream {
            if name.len() >= 15 && name[..15].eq_ignore_ascii_case(b"access-control-") {
                remove.push(name);
            } else if name.eq_ignore_ascii_case(b"vary") {
                vary.add(value);
            }
        }
        let mut set = CorsHeaders::default();
        if let Some(origin) = allow_origin {
            set.allow_origin = Some(origin);
            set.allow_credentials = self.credentials;
            set.expose_headers = self.expose_headers.as_deref();
        }
        if let AllowOrigins::List(_) = self.origins {
            set.vary = vary.merged();
        }
        ResponseEdits { remove, set }
    }
}

/// A decision's outcome, denial and enforced action, before shadow mode is added.
type Verdict<'a> = (Outcome, Option<Denial<'a>>, Action<'a>);
