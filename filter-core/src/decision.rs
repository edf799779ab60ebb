//! The CORS decision for one request, and the edits to the response.

use crate::config::{AllowHeaders, AllowMethods, Policy};
use crate::headers::CorsHeaders;
use crate::http::{is_safelisted_method, is_token, list_elements};
use crate::origin::{is_same_origin, AllowOrigins};
use alloc::borrow::Cow;
use alloc::string::String;
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
    /// What the adapter does.
    pub action: Action<'a>,
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
    /// Forward the request and leave the response alone (shadow mode).
    Pass,
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
        let mut decision = match (request.origin, request.access_control_request_method) {
            (Some(origin), Some(method)) if request.is_preflight() => {
                self.preflight(origin, method, request)
            }
            _ => self.actual(request),
        };
        if self.shadow {
            decision.action = Action::Pass;
        }
        decision
    }

    fn preflight<'a>(
        &'a self,
        origin: &'a [u8],
        method: &'a [u8],
        request: &Request<'a>,
    ) -> Decision<'a> {
        let deny = |outcome, denial| Decision {
            outcome,
            denial: Some(denial),
            action: Action::Respond {
                status: 403,
                headers: self.preflight_vary(),
            },
        };
        let Some(allow_origin) = self.allow_origin(origin) else {
            return deny(Outcome::PreflightDeniedOrigin, Denial::Origin(origin));
        };
        let Some(allow_methods) = self.allow_methods(method) else {
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
        Decision {
            outcome: Outcome::PreflightAllowed,
            denial: None,
            action: Action::Respond {
                status: 204,
                headers,
            },
        }
    }

    fn actual<'a>(&'a self, request: &Request<'a>) -> Decision<'a> {
        let any = matches!(self.origins, AllowOrigins::Any).then_some("*");
        let Some(origin) = request.origin else {
            return Decision {
                outcome: Outcome::ActualNoOrigin,
                denial: None,
                action: Action::Forward { allow_origin: any },
            };
        };
        if let Some(allow_origin) = self.allow_origin(origin) {
            return Decision {
                outcome: Outcome::ActualAllowed,
                denial: None,
                action: Action::Forward {
                    allow_origin: Some(allow_origin),
                },
            };
        }
        let denial = Some(Denial::Origin(origin));
        if is_same_origin(origin, request.scheme, request.authority)
            || request.sec_fetch_site == Some(b"same-origin")
        {
            return Decision {
                outcome: Outcome::ActualSameOrigin,
                denial: None,
                action: Action::Forward { allow_origin: None },
            };
        }
        if self.reject {
            let headers = CorsHeaders {
                vary: Some(Cow::Borrowed("Origin")),
                ..CorsHeaders::default()
            };
            return Decision {
                outcome: Outcome::ActualRejected,
                denial,
                action: Action::Respond {
                    status: 403,
                    headers,
                },
            };
        }
        Decision {
            outcome: Outcome::ActualDenied,
            denial,
            action: Action::Forward { allow_origin: None },
        }
    }

    /// The `Access-Control-Allow-Origin` value for an allowed origin.
    fn allow_origin<'a>(&self, origin: &'a [u8]) -> Option<&'a str> {
        match self.origins {
            AllowOrigins::Any => Some("*"),
            // Only serialized origins match, and those are ASCII.
            AllowOrigins::List(_) if self.origins.allows(origin) => {
                core::str::from_utf8(origin).ok()
            }
            AllowOrigins::List(_) => None,
        }
    }

    /// The `Access-Control-Allow-Methods` value, if `method` is allowed.
    fn allow_methods<'a>(&'a self, method: &'a [u8]) -> Option<&'a str> {
        match &self.methods {
            AllowMethods::Any if is_token(method) => core::str::from_utf8(method).ok(),
            AllowMethods::Any => None,
            AllowMethods::List { methods, header } => (is_safelisted_method(method)
                || methods.iter().any(|m| **m == *method))
            .then_some(&**header),
        }
    }

    fn preflight_vary(&self) -> CorsHeaders<'static> {
        let vary = if self.private_network {
            "Origin, Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network"
        } else {
            "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
        };
        CorsHeaders {
            vary: Some(Cow::Borrowed(vary)),
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

impl AllowHeaders {
    /// Checks every name of an `Access-Control-Request-Headers` value.
    /// `Ok` carries the `Access-Control-Allow-Headers` answer (names lowercase,
    /// joined by `,`; `None` when none were requested), borrowed when the
    /// request already wrote it that way, as browsers do. `Err` is the first
    /// name refused.
    fn check<'a>(&self, requested: &'a [u8]) -> Result<Option<Cow<'a, str>>, &'a [u8]> {
        let mut count = 0;
        for name in list_elements(requested) {
            if !is_token(name) || !self.allows(name) {
                return Err(name);
            }
            count += 1;
        }
        if count == 0 {
            return Ok(None);
        }
        let canonical = !requested
            .iter()
            .any(|b| b.is_ascii_uppercase() || matches!(b, b' ' | b'\t'))
            && !requested.starts_with(b",")
            && !requested.ends_with(b",")
            && !requested.windows(2).any(|w| w == b",,");
        // Every name is a token, so the value is ASCII.
        if canonical {
            let text = core::str::from_utf8(requested).map_err(|_| requested)?;
            return Ok(Some(Cow::Borrowed(text)));
        }
        let mut joined = Vec::with_capacity(requested.len());
        for name in list_elements(requested) {
            if !joined.is_empty() {
                joined.push(b',');
            }
            joined.extend_from_slice(name);
        }
        joined.make_ascii_lowercase();
        let joined = String::from_utf8(joined).map_err(|_| requested)?;
        Ok(Some(Cow::Owned(joined)))
    }

    fn allows(&self, name: &[u8]) -> bool {
        if self.any && !name.eq_ignore_ascii_case(b"authorization") {
            return true;
        }
        self.names
            .binary_search_by(|listed| cmp_lowercase(listed, name))
            .is_ok()
    }
}

/// The order of [`AllowHeaders::names`]: by length first, so that most
/// comparisons with a requested name end at its length.
pub(crate) fn by_length_then_bytes(a: &[u8], b: &[u8]) -> core::cmp::Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// Compares a lowercase name with one in any case, in [`by_length_then_bytes`] order.
fn cmp_lowercase(lower: &[u8], name: &[u8]) -> core::cmp::Ordering {
    lower.len().cmp(&name.len()).then_with(|| {
        lower
            .iter()
            .copied()
            .cmp(name.iter().map(u8::to_ascii_lowercase))
    })
}

/// Folding the upstream's `Vary` lines into one that names `Origin`.
enum VaryMerge {
    Absent,
    /// Already `*` or naming `Origin`: leave it.
    Keep,
    /// The upstream's field names so far, joined by `, `. Names, not lines:
    /// Envoy joins repeated lines with `,` before a filter sees them and
    /// Workers with `, `, so only a rewrite gives both the same bytes.
    Names(String),
}

impl VaryMerge {
    fn add(&mut self, value: &[u8]) {
        if matches!(self, VaryMerge::Keep) {
            return;
        }
        if list_elements(value).any(|name| name == b"*" || name.eq_ignore_ascii_case(b"origin")) {
            *self = VaryMerge::Keep;
            return;
        }
        // An element that is not a field name means nothing to a cache: left out.
        for name in list_elements(value).filter(|name| is_token(name)) {
            let name = core::str::from_utf8(name).unwrap_or_default();
            match self {
                VaryMerge::Names(names) => {
                    names.push_str(", ");
                    names.push_str(name);
                }
                _ => *self = VaryMerge::Names(String::from(name)),
            }
        }
    }

    /// The `Vary` to set, or `None` to leave the upstream's as it is.
    fn merged(self) -> Option<Cow<'static, str>> {
        match self {
            VaryMerge::Absent => Some(Cow::Borrowed("Origin")),
            VaryMerge::Keep => None,
            VaryMerge::Names(mut names) => {
                names.push_str(", Origin");
                Some(Cow::Owned(names))
            }
        }
    }
}
