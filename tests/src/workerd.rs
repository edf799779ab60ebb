//! A real workerd running the Worker (`cloudflare-worker/worker.js` and its
//! `build/`), forwarding to an [`Upstream`](crate::upstream::Upstream) through
//! `ORIGIN_URL`.
//!
//! The config is generated Cap'n Proto text, as `workerd serve` reads it. The
//! socket binds port 0 and workerd reports the port it got on its control
//! descriptor (`--control-fd`), so parallel tests never race for a port. The
//! control messages share stdout with the Worker's `console.log` lines, which
//! the harness collects as they come, as it does stderr (`console.error`).

use crate::TempDir;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// How long workerd may take to listen (it takes well under a second; CI
/// machines are shared).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The compatibility date of `deploy/cloudflare/wrangler.toml`, so the tests
/// run the Worker under the runtime behaviour it is deployed with.
pub const COMPATIBILITY_DATE: &str = "2026-05-03";

/// `$WORKERD_BIN`, or the one from `env.sh`.
pub fn workerd_bin() -> PathBuf {
    crate::tool("WORKERD_BIN")
}

/// The built Worker, `cloudflare-worker/build/` (`$CLOUDFLARE_WORKER_BUILD`
/// overrides).
///
/// # Panics
/// When `index.js` or `index_bg.wasm` is missing: build them with
/// `scripts/build-wasm.sh worker`.
pub fn build_dir() -> PathBuf {
    let dir = std::env::var_os("CLOUDFLARE_WORKER_BUILD")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::workspace_root().join("cloudflare-worker/build"));
    for file in ["index.js", "index_bg.wasm"] {
        assert!(
            dir.join(file).exists(),
            "{} does not exist: build it with scripts/build-wasm.sh worker",
            dir.join(file).display()
        );
    }
    dir
}

/// The Worker's entry module, `cloudflare-worker/worker.js`: it imports
/// `./build/index.js`, what worker-build generates.
pub fn entry_module() -> PathBuf {
    crate::workspace_root().join("cloudflare-worker/worker.js")
}

/// Lays the Worker out in `dir` as in the crate: `worker.js` next to
/// `build/index.js` and `build/index_bg.wasm` (from [`build_dir`]), the files
/// that [`Module::built_worker`] names.
///
/// # Panics
/// When a file cannot be copied.
pub fn lay_out_worker(dir: &std::path::Path) {
    let copy = |from: PathBuf, to: PathBuf| {
        std::fs::copy(&from, &to)
            .unwrap_or_else(|e| panic!("cannot copy {} to {}: {e}", from.display(), to.display()));
    };
    let build = build_dir();
    std::fs::create_dir_all(dir.join("build"))
        .unwrap_or_else(|e| panic!("cannot create {}/build: {e}", dir.display()));
    for file in ["index.js", "index_bg.wasm"] {
        copy(build.join(file), dir.join("build").join(file));
    }
    copy(entry_module(), dir.join("worker.js"));
}

/// How the plugin JSON reaches the Worker's `CORS_CONFIG` binding.
#[derive(Debug, Clone, Copy)]
pub enum CorsConfig<'a> {
    /// A text binding (a wrangler var written as a string): any text at all.
    Text(&'a str),
    /// A JSON binding (a wrangler `[vars]` table): the Worker sees an object.
    /// It must be valid JSON, or workerd refuses its own config.
    Json(&'a str),
    /// No binding.
    Absent,
}

/// What a test adds to the Worker's workerd config besides `CORS_CONFIG` and
/// `ORIGIN_URL`: stand-ins for Cloudflare's bindings, written as workerd
/// wrapped bindings whose module is one of `internal_modules`.
#[derive(Debug, Clone, Default)]
pub struct Extras {
    /// Bindings in Cap'n Proto text, e.g.
    /// `(name = "X", wrapped = (moduleName = "test:x"))`.
    pub bindings: Vec<String>,
    /// Internal ES modules `(name, source)`, for wrapped bindings: each
    /// default-exports a function that returns the binding's value.
    pub internal_modules: Vec<(String, String)>,
}

/// A running workerd; killed on drop.
pub struct Workerd {
    child: Child,
    addr: SocketAddr,
    output: Arc<Output>,
    _dir: TempDir,
}

/// Why workerd did not come up: its exit status (if it exited) and output.
#[derive(Debug)]
pub struct StartFailure {
    /// `None` when it was still running at the timeout (it has been killed).
    pub status: Option<ExitStatus>,
    /// workerd's stdout and stderr.
    pub log: String,
}

/// A denial as the Worker logs it: one JSON line per denied request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedDenial {
    /// The policy's name.
    pub policy: String,
    /// The outcome (`preflight_denied_origin`, ...).
    pub outcome: String,
    /// Why, naming the request value.
    pub reason: String,
}

impl Workerd {
    /// Starts workerd running the Worker with `cors_config` and, when given,
    /// `ORIGIN_URL = origin_url`, and waits until it listens.
    ///
    /// # Errors
    /// workerd exited (it refuses a config it cannot read) or did not listen
    /// in time.
    pub fn start(
        cors_config: CorsConfig,
        origin_url: Option<&str>,
    ) -> Result<Workerd, StartFailure> {
        Workerd::start_with(cors_config, origin_url, &Extras::default())
    }

    /// [`Workerd::start`] with `extras` in the config.
    ///
    /// # Errors
    /// As [`Workerd::start`].
    pub fn start_with(
        cors_config: CorsConfig,
        origin_url: Option<&str>,
        extras: &Extras,
    ) -> Result<Workerd, StartFailure> {
        let dir = TempDir::new("e2e-workerd");
        // Embedded files are found relative to the config file.
        lay_out_worker(dir.path());
        let config_path = dir.path().join("workerd.capnp");
        std::fs::write(
            &config_path,
            capnp_config_with(cors_config, origin_url, extras),
        )
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", config_path.display()));
        let mut child = Command::new(workerd_bin())
            .arg("serve")
            .arg(&config_path)
            .args(["--control-fd", "1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", workerd_bin().display()));
        let output = Arc::new(Output::default());
        if let Some(stdout) = child.stdout.take() {
            collect(stdout, Arc::clone(&output), Stream::Stdout);
        }
        if let Some(stderr) = child.stderr.take() {
            collect(stderr, Arc::clone(&output), Stream::Stderr);
        }
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(port) = output.listening_port() {
                let addr = SocketAddr::from(([127, 0, 0, 1], port));
                return Ok(Workerd {
                    child,
                    addr,
                    output,
                    _dir: dir,
                });
            }
            let exited = child.try_wait().ok().flatten();
            if exited.is_some() || Instant::now() > deadline {
                if exited.is_none() {
                    let _ = child.kill();
                }
                let status = child.wait().ok();
                return Err(StartFailure {
                    status,
                    log: output.all(),
                });
            }
            output.wait(Duration::from_millis(50));
        }
    }

    /// Where the Worker listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The Worker's `console.log` lines so far (workerd's control messages
    /// left out).
    pub fn log_lines(&self) -> Vec<String> {
        self.output.lines(Stream::Stdout)
    }

    /// workerd's stderr lines so far: the Worker's `console.error` lines and
    /// workerd's own messages.
    pub fn error_lines(&self) -> Vec<String> {
        self.output.lines(Stream::Stderr)
    }

    /// The denials logged so far, in order.
    pub fn denials(&self) -> Vec<LoggedDenial> {
        self.log_lines()
            .iter()
            .filter_map(|l| parse_denial(l))
            .collect()
    }

    /// Waits until at least `count` denials are logged, or `timeout` passes,
    /// and returns them. Log lines arrive through a pipe, a moment after the
    /// response that caused them.
    pub fn wait_for_denials(&self, count: usize, timeout: Duration) -> Vec<LoggedDenial> {
        let deadline = Instant::now() + timeout;
        loop {
            let denials = self.denials();
            if denials.len() >= count || Instant::now() > deadline {
                return denials;
            }
            self.output.wait(Duration::from_millis(20));
        }
    }

    /// Waits until stderr has a line containing `needle`, or `timeout` passes.
    pub fn wait_for_error_line(&self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.error_lines().iter().any(|l| l.contains(needle)) {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            self.output.wait(Duration::from_millis(20));
        }
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// The process id, to read its memory from `/proc`.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// stderr lines that betray a trap, a panic or an exception in the
    /// Worker. (The worker-build shim re-instantiates a trapped module on the
    /// next request, so later answers do not show a crash; these lines do.)
    pub fn crash_lines(&self) -> Vec<String> {
        self.error_lines()
            .into_iter()
            .filter(|line| {
                [
                    "panicked",
                    "Critical",
                    "RuntimeError",
                    "Uncaught",
                    "Module terminated",
                ]
                .iter()
                .any(|needle| line.contains(needle))
            })
            .collect()
    }
}

impl Drop for Workerd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The workerd config of the tests: the built Worker on `127.0.0.1:0`, with
/// `cors_config`, `ORIGIN_URL` when given, and `extras`, fetching over the
/// network (loopback included).
pub fn capnp_config_with(
    cors_config: CorsConfig,
    origin_url: Option<&str>,
    extras: &Extras,
) -> String {
    let mut bindings = Vec::new();
    match cors_config {
        CorsConfig::Text(text) => bindings.push(Binding::Text("CORS_CONFIG".into(), text.into())),
        CorsConfig::Json(json) => bindings.push(Binding::Json("CORS_CONFIG".into(), json.into())),
        CorsConfig::Absent => {}
    }
    if let Some(url) = origin_url {
        bindings.push(Binding::Text("ORIGIN_URL".into(), url.into()));
    }
    bindings.extend(extras.bindings.iter().cloned().map(Binding::Capnp));
    Config {
        modules: Module::built_worker(),
        bindings,
        outbound: Outbound::Network,
        internal_modules: extras.internal_modules.clone(),
    }
    .to_capnp()
}

/// One module of a Worker, embedded from a file beside the config.
#[derive(Debug, Clone)]
pub enum Module {
    /// An ES module (JavaScript); the first one is the entry point.
    Es(String),
    /// A compiled Wasm module, imported by that name.
    Wasm(String),
}

impl Module {
    /// The built Worker's modules, as [`lay_out_worker`] places them: the
    /// entry `worker.js`, the `build/index.js` it imports, and the
    /// `build/index_bg.wasm` that imports.
    pub fn built_worker() -> Vec<Module> {
        vec![
            Module::Es("worker.js".into()),
            Module::Es("build/index.js".into()),
            Module::Wasm("build/index_bg.wasm".into()),
        ]
    }
}

/// A binding of the Worker's `env`.
#[derive(Debug, Clone)]
pub enum Binding {
    /// A text binding (a wrangler var written as a string): any text.
    Text(String, String),
    /// A JSON binding (a wrangler `[vars]` table): the Worker sees an
    /// object. It must be valid JSON, or workerd refuses its own config.
    Json(String, String),
    /// A text binding holding a file beside the config.
    TextFile(String, String),
    /// A binding written in Cap'n Proto text, such as a wrapped binding
    /// `(name = "X", wrapped = (moduleName = "test:x"))`.
    Capnp(String),
}

/// Where the Worker's `fetch()` goes.
#[derive(Debug, Clone)]
pub enum Outbound {
    /// The network, loopback included (workerd's default network refuses
    /// it, and a test's upstream is there).
    Network,
    /// A second Worker, this ES module beside the config: every fetch
    /// reaches it without crossing a socket (a benchmark's upstream).
    Worker(String),
}

/// The one generator of workerd configs, for the tests, the `serve` binary
/// and through it the scripts: a Worker of `modules` with `bindings` on
/// `127.0.0.1:0` (workerd reports the port on its control descriptor,
/// `--control-fd`), fetching through `outbound`. Files are embedded
/// relative to the config file.
#[derive(Debug, Clone)]
pub struct Config {
    /// The Worker's modules, the entry point first.
    pub modules: Vec<Module>,
    /// Its bindings.
    pub bindings: Vec<Binding>,
    /// Where its fetches go.
    pub outbound: Outbound,
    /// Internal ES modules `(name, source)` of an extension, for wrapped
    /// bindings.
    pub internal_modules: Vec<(String, String)>,
}

impl Config {
    /// The config as `workerd serve` reads it (Cap'n Proto text).
    pub fn to_capnp(&self) -> String {
        let modules: Vec<String> = self
            .modules
            .iter()
            .map(|module| match module {
                Module::Es(file) => {
                    format!("(name = {0}, esModule = embed {0})", capnp_string(file))
                }
                Module::Wasm(file) => format!("(name = {0}, wasm = embed {0})", capnp_string(file)),
            })
            .collect();
        let bindings: Vec<String> = self
            .bindings
            .iter()
            .map(|binding| match binding {
                Binding::Text(name, text) => {
                    format!(
                        "(name = {}, text = {})",
                        capnp_string(name),
                        capnp_string(text)
                    )
                }
                Binding::Json(name, json) => {
                    format!(
                        "(name = {}, json = {})",
                        capnp_string(name),
                        capnp_string(json)
                    )
                }
                Binding::TextFile(name, file) => format!(
                    "(name = {}, text = embed {})",
                    capnp_string(name),
                    capnp_string(file)
                ),
                Binding::Capnp(text) => text.clone(),
            })
            .collect();
        let internal_modules: Vec<String> = self
            .internal_modules
            .iter()
            .map(|(name, source)| {
                format!(
                    "(name = {}, esModule = {}, internal = true)",
                    capnp_string(name),
                    capnp_string(source)
                )
            })
            .collect();
        let (outbound_service, outbound_worker) = match &self.outbound {
            Outbound::Network => (
                r#"(name = "outbound", network = (allow = ["public", "private", "local"]))"#
                    .to_string(),
                String::new(),
            ),
            Outbound::Worker(file) => (
                r#"(name = "outbound", worker = .outbound)"#.to_string(),
                format!(
                    "\nconst outbound :Workerd.Worker = (\n  modules = [(name = {0}, esModule = embed {0})],\n  compatibilityDate = \"{COMPATIBILITY_DATE}\",\n);\n",
                    capnp_string(file)
                ),
            ),
        };
        format!(
            r#"using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    {outbound_service},
  ],
  sockets = [(name = "http", address = "127.0.0.1:0", http = (), service = "main")],
  extensions = [(modules = [{}])],
);

const worker :Workerd.Worker = (
  modules = [{}],
  compatibilityDate = "{COMPATIBILITY_DATE}",
  bindings = [{}],
  globalOutbound = "outbound",
);
{outbound_worker}"#,
            internal_modules.join(", "),
            modules.join(", "),
            bindings.join(", ")
        )
    }
}

/// A Cap'n Proto text literal holding `text` exactly.
fn capnp_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_ascii_control() => out.push_str(&format!("\\x{:02x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A denial line: `{"level":"debug","policy":…,"outcome":…,"reason":…}`.
pub fn parse_denial(line: &str) -> Option<LoggedDenial> {
    let value: serde_json::Value = serde_json::from_str(line).ok()?;
    if value.get("level")?.as_str()? != "debug" {
        return None;
    }
    let field = |name: &str| value.get(name)?.as_str().map(String::from);
    Some(LoggedDenial {
        policy: field("policy")?,
        outcome: field("outcome")?,
        reason: field("reason")?,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stream {
    Stdout,
    Stderr,
}

/// workerd's output, collected by one thread per stream.
#[derive(Default)]
struct Output {
    lines: Mutex<Vec<(Stream, String)>>,
    changed: Condvar,
}

impl Output {
    fn push(&self, stream: Stream, line: String) {
        if let Ok(mut lines) = self.lines.lock() {
            lines.push((stream, line));
        }
        self.changed.notify_all();
    }

    /// Waits for a new line, at most `timeout`.
    fn wait(&self, timeout: Duration) {
        if let Ok(lines) = self.lines.lock() {
            let _ = self.changed.wait_timeout(lines, timeout);
        }
    }

    fn lines(&self, stream: Stream) -> Vec<String> {
        self.lines
            .lock()
            .map(|lines| {
                lines
                    .iter()
                    .filter(|(s, line)| *s == stream && listen_port(line).is_none())
                    .map(|(_, line)| line.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn all(&self) -> String {
        self.lines
            .lock()
            .map(|lines| lines.iter().map(|(_, line)| format!("{line}\n")).collect())
            .unwrap_or_default()
    }

    fn listening_port(&self) -> Option<u16> {
        let lines = self.lines.lock().ok()?;
        lines
            .iter()
            .filter(|(s, _)| *s == Stream::Stdout)
            .find_map(|(_, line)| listen_port(line))
    }
}

/// The port of a control message `{"event":"listen","socket":"http","port":N}`.
fn listen_port(line: &str) -> Option<u16> {
    let value: serde_json::Value = serde_json::from_str(line).ok()?;
    if value.get("event")?.as_str()? != "listen" {
        return None;
    }
    u16::try_from(value.get("port")?.as_u64()?).ok()
}

/// Reads `source` line by line into `output` until it closes.
fn collect(source: impl Read + Send + 'static, output: Arc<Output>, stream: Stream) {
    thread::spawn(move || {
        for line in BufReader::new(source).split(b'\n') {
            let Ok(line) = line else { break };
            output.push(stream, String::from_utf8_lossy(&line).into_owned());
        }
    });
}
