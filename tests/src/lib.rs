//! The end-to-end harness: the filter in real runtimes (real Envoy running
//! the module, over HTTP/1.1 and HTTP/2; real workerd running the Worker)
//! behind one [`proxy::Proxy`] trait, and the checks written once against it:
//! the shared vectors ([`conformance`]), hostile traffic ([`hostile`]) and
//! floods ([`flood`]). Around them: raw HTTP/1.1 and HTTP/2 clients
//! ([`client`], [`h2c`]), a recording upstream ([`upstream`]), and the one
//! generator of each runtime's config ([`envoy::Bootstrap`],
//! [`workerd::Config`]), which the `serve` binary also hands to scripts.
//!
//! Everything works on bytes: the vectors carry non-UTF-8 header values on
//! purpose, and the client and upstream send and record exactly those bytes.

pub mod client;
pub mod conformance;
pub mod envoy;
pub mod flood;
pub mod h2c;
pub mod hostile;
pub mod kit;
pub mod proxy;
pub mod upstream;
pub mod vectors;
pub mod workerd;

use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The workspace root (the directory holding `Cargo.lock`).
pub fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

/// A tool path from the environment, or else from the `env.sh` written by
/// `scripts/setup.sh` (`$CORS_TOOLS_DIR`, default `~/.cache/cors-filter-tools`).
///
/// # Panics
/// When neither names the tool, or the named file does not exist: an
/// end-to-end test that cannot run must fail loudly, never skip.
pub fn tool(variable: &str) -> PathBuf {
    let path = std::env::var_os(variable)
        .map(PathBuf::from)
        .or_else(|| env_sh_value(variable).map(PathBuf::from));
    match path {
        Some(path) if path.exists() => path,
        Some(path) => panic!(
            "{variable} is {}, which does not exist; run scripts/setup.sh",
            path.display()
        ),
        None => panic!(
            "{variable} is not set and not in {}; run scripts/setup.sh",
            env_sh().display()
        ),
    }
}

fn env_sh() -> PathBuf {
    let tools = std::env::var_os("CORS_TOOLS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("HOME").unwrap_or_default();
            PathBuf::from(home).join(".cache/cors-filter-tools")
        });
    tools.join("env.sh")
}

/// Reads `export NAME="value"` from `env.sh`; that is all setup.sh writes.
fn env_sh_value(variable: &str) -> Option<String> {
    let text = std::fs::read_to_string(env_sh()).ok()?;
    let prefix = format!("export {variable}=");
    text.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .map(|value| value.trim_matches('"').to_string())
}

/// A fresh directory `<tmp>/<prefix>-…` (made by `tempfile`), removed on drop.
pub struct TempDir(tempfile::TempDir);

impl TempDir {
    /// Creates it.
    ///
    /// # Panics
    /// When it cannot be created.
    pub fn new(prefix: &str) -> TempDir {
        tempfile::Builder::new()
            .prefix(&format!("{prefix}-"))
            .tempdir()
            .map(TempDir)
            .unwrap_or_else(|e| panic!("cannot create a temp dir {prefix}-…: {e}"))
    }

    /// The directory.
    pub fn path(&self) -> &std::path::Path {
        self.0.path()
    }
}

/// Polls every 50 ms until `done` holds, or fails the test naming `what`
/// once `patience` has passed.
pub fn wait_for(what: &str, patience: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + patience;
    while !done() {
        assert!(Instant::now() < deadline, "{what}: not within {patience:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
