//! `wrangler deploy --dry-run` packages the built Worker with
//! `deploy/cloudflare/wrangler.toml`, for every environment, offline: what
//! `wrangler deploy` would upload, without an account or the network.
//!
//! The kit is laid out as its README says, the file next to the crate's
//! `worker.js` and `build/` (its `main` is `worker.js`, which imports
//! `build/index.js`). Its `[build]` step runs `worker-build`; here
//! the Worker is already built by `scripts/build-wasm.sh worker`, so the step
//! is left out and the check is the packaging of that build.
//!
//! Needs wrangler (`scripts/setup.sh`) and the built Worker; fails, never
//! skips, without them.

use e2e::workerd::{build_dir, entry_module};
use e2e::TempDir;
use std::path::Path;
use std::process::Command;

/// The kit's `wrangler.toml` without its `[build]` table.
fn without_build_step(toml: &str) -> String {
    let mut kept = Vec::new();
    let mut in_build = false;
    for line in toml.lines() {
        if line.starts_with('[') {
            in_build = line.trim() == "[build]";
        }
        if !in_build {
            kept.push(line);
        }
    }
    kept.join("\n") + "\n"
}

/// The names of the `[env.NAME]` tables.
fn environments(toml: &str) -> Vec<&str> {
    toml.lines()
        .filter_map(|line| line.trim().strip_prefix("[env.")?.strip_suffix(']'))
        .filter(|name| !name.contains('.'))
        .collect()
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

#[test]
fn wrangler_packages_every_environment_offline() {
    let wrangler = e2e::tool("WRANGLER_BIN");
    let build = build_dir();
    let kit_toml = e2e::workspace_root().join("deploy/cloudflare/wrangler.toml");
    let toml = String::from_utf8(read(&kit_toml)).expect("wrangler.toml is UTF-8");
    assert!(
        toml.lines()
            .any(|line| line.trim() == r#"main = "worker.js""#),
        "{}: main must be worker.js, the crate's entry module",
        kit_toml.display()
    );
    let envs = environments(&toml);
    assert!(!envs.is_empty(), "{}: no [env.*]", kit_toml.display());

    let kit = TempDir::new("e2e-wrangler");
    std::fs::create_dir(kit.path().join("build")).unwrap();
    for file in ["index.js", "index_bg.wasm"] {
        std::fs::copy(build.join(file), kit.path().join("build").join(file)).unwrap();
    }
    std::fs::copy(entry_module(), kit.path().join("worker.js")).unwrap();
    std::fs::write(kit.path().join("wrangler.toml"), without_build_step(&toml)).unwrap();
    let wasm = read(&build.join("index_bg.wasm"));

    for env in envs {
        let out = kit.path().join(format!("out-{env}"));
        let run = Command::new(&wrangler)
            .args(["deploy", "--dry-run", "--env", env, "--outdir"])
            .arg(&out)
            .current_dir(kit.path())
            .env("WRANGLER_SEND_METRICS", "false")
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", wrangler.display()));
        let output = String::from_utf8_lossy(&run.stdout).into_owned()
            + &String::from_utf8_lossy(&run.stderr);
        assert!(
            run.status.success(),
            "--env {env}: {}\n{output}",
            run.status
        );
        let upload = output
            .lines()
            .find(|line| line.contains("Total Upload"))
            .unwrap_or_else(|| panic!("--env {env}: no upload size in:\n{output}"));
        eprintln!("--env {env}: {}", upload.trim());
        let files: Vec<String> = std::fs::read_dir(&out)
            .unwrap()
            .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
            .collect();
        assert!(
            files.iter().any(|f| f == "worker.js"),
            "--env {env}: {files:?}"
        );
        let packaged = files
            .iter()
            .find(|f| f.ends_with("index_bg.wasm"))
            .unwrap_or_else(|| panic!("--env {env}: no wasm in {files:?}"));
        assert!(
            read(&out.join(packaged)) == wasm,
            "--env {env}: the packaged {packaged} is not the built index_bg.wasm"
        );
    }
}
