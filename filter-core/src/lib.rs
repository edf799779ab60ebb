//! The CORS policy engine behind the Envoy module and the Cloudflare Worker.
//!
//! It knows nothing of either: the plugin JSON comes in as bytes and is
//! compiled once into a [`Config`]; for each request an adapter asks which
//! [`Policy`] applies ([`Config::policy_for`]), hands it the few request
//! values CORS depends on ([`Request`]), and carries out the [`Decision`]:
//! answer at the edge, or forward and later apply [`Policy::edit_response`]
//! to the upstream's headers. Words follow the Fetch Standard's CORS protocol.
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
//! let Action::Respond { status, headers } = policy.decide(&preflight).action else { panic!() };
//! assert_eq!(status, 204);
//! assert!(headers.iter().any(|h| h == ("access-control-allow-methods", "PUT")));
//! ```
#![no_std]
#![warn(missing_docs)]

extern crate alloc;

mod config;
mod decision;
mod describe;
mod error;
mod headers;
mod http;
mod json;
mod metric;
mod model;
mod origin;
mod path;
mod psl;
mod scope;

pub use config::{Config, Policy};
pub use decision::{Action, Decision, Denial, Outcome, Request, ResponseEdits};
pub use describe::normalize_origin_entry;
pub use error::{ConfigError, ConfigErrors, Problem};
pub use headers::CorsHeaders;
pub use metric::metric_name_part;
pub use model::{Disallowed, Match, Mode, PluginConfig, PolicyConfig};
pub use origin::covers_public_suffix;
pub use path::normalize_path;
pub use psl::PSL_SNAPSHOT_DATE;
