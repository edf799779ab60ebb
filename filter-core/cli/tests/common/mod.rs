//! Running the built `cors-filter` binary as a user would.

// Every test binary compiles this module and each uses only part of it.
#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

/// What a run printed, and how it ended.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The stdout as JSON (for `--json`).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }

    /// Asserts that `text` is one whole line of stdout.
    #[track_caller]
    pub fn has_line(&self, line: &str) {
        assert!(
            self.stdout.lines().any(|l| l == line),
            "no line {line:?} in stdout:\n{}",
            self.stdout
        );
    }

    #[track_caller]
    pub fn has_err_line(&self, line: &str) {
        assert!(
            self.stderr.lines().any(|l| l == line),
            "no line {line:?} in stderr:\n{}",
            self.stderr
        );
    }
}

pub fn run(args: &[&str]) -> Run {
    run_with_stdin(args, "")
}

pub fn run_with_stdin(args: &[&str], stdin: &str) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cors-filter"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("stdin written");
    let output = child.wait_with_output().expect("the binary exits");
    Run {
        code: output.status.code().expect("an exit code"),
        stdout: String::from_utf8(output.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(output.stderr).expect("UTF-8 stderr"),
    }
}

/// Writes `text` to a file under the target directory. Tests run in
/// parallel and may write the same file: it is written aside and renamed
/// into place, so a reader never sees it half written.
pub fn file(name: &str, text: &str) -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cors-filter-cli");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    let unique = COUNTER.fetch_add(1, Ordering::Relaxed);
    let aside = dir.join(format!("{name}.{}.{unique}", std::process::id()));
    std::fs::write(&aside, text).expect("file written");
    std::fs::rename(&aside, &path).expect("file renamed");
    path.to_string_lossy().into_owned()
}

/// The example config of the product spec.
pub const SPEC_CONFIG: &str = r#"{
  "mode": "enforce",
  "policies": [
    {
      "name": "public",
      "match": { "paths": ["/public/*"] },
      "allow_origins": ["*"],
      "allow_methods": ["GET"],
      "max_age": 600
    },
    {
      "name": "authenticated",
      "match": { "hosts": ["api.example.com"], "paths": ["/api/*"] },
      "allow_origins": ["https://app.example.com", "https://*.example.com", "http://localhost:*"],
      "allow_methods": ["GET", "POST", "PUT", "DELETE"],
      "allow_headers": ["Content-Type", "Authorization", "X-CSRF-Token"],
      "expose_headers": ["X-RateLimit-Remaining"],
      "allow_credentials": true,
      "max_age": 3600,
      "allow_private_network": false,
      "disallowed": "pass"
    }
  ]
}"#;
