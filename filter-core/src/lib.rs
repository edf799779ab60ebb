//! The CORS policy engine behind the Envoy module and the Cloudflare Worker.
//!
//! It knows nothing of either: the plugin JSON comes in as bytes, is read
//! into the user's model, [`PluginConfig`], and is compiled once into a
//! [`Config`]; for each request an adapter asks which [`Policy`] applies
//! ([`Config::policy_for`]), hands it the few request values CORS depends on
//! ([`Request`]), and carries out the [`Decision`] unless shadow mode holds it
//! back: answer at the edge, or forward and later apply
//! [`Policy::edit_response`] to the upstream's headers. Operator tools read
//! the same model, and [`Config::plugin_config`] gives back the one a config
//! runs, normalized. Words follow the Fetch Standard's CORS protocol.
//!
//! ```
//! use filter_core::{Action, Config, Request};
//!
//! let config = Config::from_json(br#"{"policies": [
//!     {"name": "api", "allow_origins": ["https://app.example.com"], "allow_methods": ["PUT"]}
//! ]}"#).unwrap();
//! let policy = config.policy_for(b"api.example.com", b"/items").unwrap();
//! let preflight = Request {
//!     method: b"OPTIONS",
//!     origin: Some(b"https://app.example.com"),
//!     access_control_request_method: Some(b"PUT"),
//!     ..Request::default()
//! };
//! let decision = policy.decide(&preflight);
//! let Some(Action::Respond { status, headers }) = decision.to_carry_out() else { panic!() };
//! assert_eq!(*status, 204);
//! assert!(headers.iter().any(|h| h == ("access-control-allow-methods", "PUT")));
//! ```
#![no_std]
#![warn(missing_docs)]

extern crate alloc;

mod allow_headers;
mod allow_methods;
mod allow_origin;
mod config;
mod decision;
mod error;
mod expose_headers;
mod headers;
mod http;
mod max_age;
mod metric;
mod model;
mod origin;
mod path;
mod psl;
mod scope;
mod vary;

pub use allow_origin::normalize_origin_entry;
pub use config::{Config, Policy};
pub use decision::{Action, Decision, Denial, Outcome, Request, ResponseEdits};
pub use error::{ConfigError, ConfigErrors, FieldPath, PolicyRef, Problem, ReadError, Segment};
pub use headers::CorsHeaders;
pub use http::is_token;
pub use metric::metric_name_part;
pub use model::{Disallowed, Match, Mode, PluginConfig, PolicyConfig};
pub use origin::{covers_public_suffix, is_loopback_origin};
pub use path::normalize_path;
pub use psl::PSL_SNAPSHOT_DATE;
