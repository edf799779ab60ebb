//! The end-to-end harness: the shared vectors, a raw HTTP/1.1 client, a
//! recording upstream, and a real Envoy running the module.
//!
//! Every runner (Envoy here, the Worker under workerd) does the same thing
//! with a vector case: send [`vectors::Case::request`] with [`client`] through
//! the proxy to an [`upstream::Upstream`], find out whether the upstream saw
//! it, and compare with [`vectors::Expect::mismatches`]; [`conformance`] does
//! that part. Only the proxy part ([`envoy`], [`workerd`]) is runner-specific.
//!
//! Everything works on bytes: the vectors carry non-UTF-8 header values on
//! purpose, and the client and upstream send and record exactly those bytes.

pub mod client;
pub mod conformance;
pub mod envoy;
pub mod flood;
pub mod hostile;
pub mod kit;
pub mod upstream;
pub mod vectors;
pub mod workerd;

use std::path::PathBuf;

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

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates `<tmp>/<prefix>-<pid>-<n>`.
    pub fn new(prefix: &str) -> TempDir {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("{prefix}-{}-{n}", std::process::id()));
        // A leftover from an earlier run with the same pid is stale.
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
        TempDir(path)
    }

    /// The directory.
    pub fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
