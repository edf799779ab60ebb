//! What every runner does with the shared vectors, whatever the proxy: load
//! the topic files, send a case through the proxy to a recording upstream,
//! and report what differs. Where a proxy answers differently for reasons of
//! its own (Envoy's codec, workerd's URL and header handling), and what it
//! counts or logs, stays in that runner's test file.

use crate::client;
use crate::upstream::{self, Upstream};
use crate::vectors::{self, Case, Header, Observed, VectorFile};
use std::net::SocketAddr;

/// Every topic file.
///
/// # Panics
/// When a file cannot be loaded or there are none: a runner that checks
/// nothing must not pass.
pub fn topics() -> Vec<VectorFile> {
    let files = vectors::load_topics(&vectors::dir()).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        !files.is_empty(),
        "no vector files in {}",
        vectors::dir().display()
    );
    files
}

/// What the client and the upstream saw of one request.
#[derive(Debug, Clone)]
pub struct Seen {
    /// Whether the upstream saw the request.
    pub forwarded: bool,
    /// The response status.
    pub status: u16,
    /// Every response header line.
    pub headers: Vec<Header>,
}

impl Seen {
    /// The same, borrowed, for [`vectors::Expect::mismatches`].
    pub fn observed(&self) -> Observed<'_> {
        Observed {
            forwarded: self.forwarded,
            status: self.status,
            headers: &self.headers,
        }
    }
}

/// Sends a case's request to `proxy`, tagged with `id` so that `upstream`
/// can tell whether it arrived, and carrying the case's upstream answer.
///
/// # Errors
/// No response came back.
pub fn send(proxy: SocketAddr, upstream: &Upstream, id: &str, case: &Case) -> Result<Seen, String> {
    let request = &case.request;
    let mut http = client::Request::new(request.method.clone(), request.path.clone())
        .header("Host", request.authority.clone());
    for (name, value) in &request.headers {
        http = http.header(name.clone(), value.clone());
    }
    let (name, value) = upstream::instructions(&case.upstream);
    let response = http
        .header(upstream::ID_HEADER, id)
        .header(name, value)
        .send(proxy)
        .map_err(|e| format!("no response: {e}"))?;
    Ok(Seen {
        forwarded: upstream.saw(id),
        status: response.status,
        headers: response.headers,
    })
}

/// The failure line for a case of `file`, listing what differs.
pub fn failure(file: &VectorFile, case: &Case, problems: &[String]) -> String {
    format!(
        "{} / {:?}:\n    {}",
        file.file,
        case.name,
        problems.join("\n    ")
    )
}
