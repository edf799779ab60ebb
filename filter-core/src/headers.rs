//! The CORS response headers, one field per header, written out in one
//! fixed order so that every adapter sends the same bytes.

use alloc::borrow::Cow;

/// A set of CORS response headers. Names are lowercase, as HTTP/2 writes them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorsHeaders<'a> {
    /// `Access-Control-Allow-Origin`: the request's origin, or `*`.
    pub allow_origin: Option<&'a str>,
    /// `Access-Control-Allow-Credentials: true`.
    pub allow_credentials: bool,
    /// `Access-Control-Allow-Methods`, on preflights.
    pub allow_methods: Option<&'a str>,
    /// `Access-Control-Allow-Headers`, on preflights that requested some.
    pub allow_headers: Option<Cow<'a, str>>,
    /// `Access-Control-Max-Age`, on preflights.
    pub max_age: Option<&'a str>,
    /// `Access-Control-Allow-Private-Network: true`, on preflights.
    pub allow_private_network: bool,
    /// `Access-Control-Expose-Headers`, on actual responses.
    pub expose_headers: Option<&'a str>,
    /// `Vary`: the full value to set.
    pub vary: Option<Cow<'a, str>>,
}

impl CorsHeaders<'_> {
    /// The headers as (name, value) pairs, in a fixed order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            self.allow_origin
                .map(|v| ("access-control-allow-origin", v)),
            self.allow_credentials
                .then_some(("access-control-allow-credentials", "true")),
            self.allow_methods
                .map(|v| ("access-control-allow-methods", v)),
            self.allow_headers
                .as_deref()
                .map(|v| ("access-control-allow-headers", v)),
            self.max_age.map(|v| ("access-control-max-age", v)),
            self.allow_private_network
                .then_some(("access-control-allow-private-network", "true")),
            self.expose_headers
                .map(|v| ("access-control-expose-headers", v)),
            self.vary.as_deref().map(|v| ("vary", v)),
        ]
        .into_iter()
        .flatten()
    }
}
