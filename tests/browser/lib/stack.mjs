// Envoy or workerd with the filter, in front of the harness's recording
// upstream, started by the e2e crate's `serve` binary (tests/src/bin/serve.rs)
// so that the browser tests and the Rust tests run the very same setup.
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * Builds the `serve` binary (a no-op when it is up to date) and returns its
 * path, as cargo reports it, so CARGO_TARGET_DIR and profiles are respected.
 */
export function buildServe() {
  return new Promise((resolve, reject) => {
    execFile(
      'cargo',
      ['build', '--quiet', '--message-format=json', '-p', 'e2e', '--bin', 'serve'],
      { cwd: ROOT, timeout: 600_000, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`cargo build of the serve binary failed: ${err.message}\n${stderr}`));
        const artifact = stdout
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line))
          .find((m) => m.reason === 'compiler-artifact' && m.target?.name === 'serve' && m.executable);
        if (!artifact) return reject(new Error(`cargo built no serve executable:\n${stderr}`));
        resolve(artifact.executable);
      },
    );
  });
}

/**
 * Starts `serve <target>` with `pluginConfig` (an object) and waits for its
 * ready line. Returns the ports and:
 * - `upstreamRequests()`: what the upstream has received, `[{method, path, headers}]`
 *   with lowercase header names;
 * - `outcomes()`: the decisions the filter recorded, as `{"<policy>.<outcome>": n}`:
 *   for Envoy every outcome, from its counters in the admin `/stats`; for the
 *   Worker, whose counters need an Analytics Engine binding this stack does
 *   not set, the denials it logged (`deniedOnly`);
 * - `stop()`.
 */
export async function startStack(serveBin, target, pluginConfig) {
  const dir = mkdtempSync(path.join(tmpdir(), 'cors-browser-'));
  const configPath = path.join(dir, 'plugin.json');
  writeFileSync(configPath, JSON.stringify(pluginConfig));
  // Its own process group, so a forced stop also takes down Envoy or workerd.
  const child = spawn(serveBin, [target, configPath], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-20_000);
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  // Writing to a serve that has exited fails with EPIPE; the exit itself is
  // what gets reported (see nextLine), with serve's stderr.
  child.stdin.on('error', () => {});
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();

  const nextLine = async (what, ms) => {
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`serve ${target}: no ${what} within ${ms} ms; stderr:\n${stderr}`)), ms);
    });
    const died = exited.then(({ code, signal }) => {
      throw new Error(`serve ${target} exited (code ${code}, signal ${signal}) before its ${what}; stderr:\n${stderr}`);
    });
    try {
      const { value, done } = await Promise.race([lines.next(), timeout, died]);
      if (done) throw new Error(`serve ${target} closed stdout before its ${what}; stderr:\n${stderr}`);
      return JSON.parse(value);
    } finally {
      clearTimeout(timer);
    }
  };

  const stop = async () => {
    child.stdin.end();
    const killer = setTimeout(() => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }, 10_000);
    await exited;
    clearTimeout(killer);
    rmSync(dir, { recursive: true, force: true });
  };

  let ready;
  try {
    ready = await nextLine('ready line', 60_000);
  } catch (err) {
    await stop();
    throw err;
  }

  // One question at a time: tests within a file run in sequence.
  const ask = async (command) => {
    child.stdin.write(`${command}\n`);
    return nextLine(`answer to \`${command}\``, 10_000);
  };

  const upstreamRequests = async () =>
    (await ask('requests')).map(({ method, path, headers }) => ({
      method,
      path,
      headers: Object.fromEntries(headers.map(([name, value]) => [name.toLowerCase(), value])),
    }));

  const outcomes = ready.admin === null ? () => loggedDenials(ask) : () => envoyCounters(ready.admin);

  return { proxyPort: ready.proxy, upstreamRequests, outcomes, deniedOnly: ready.admin === null, stop };
}

/** The Worker's denial log lines, counted by policy and outcome. */
async function loggedDenials(ask) {
  const counts = {};
  for (const { policy, outcome } of await ask('denials')) {
    const name = `${policy}.${outcome}`;
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

/**
 * The filter's counters in /stats, keyed `<policy>.<outcome>` (`<policy>.shadow.<outcome>`
 * in shadow mode). Envoy names them
 * `wasmcustom.policy=.=<policy>;.;mode=.=<mode>;.;outcome=.=<outcome>;.;cors_requests_total`.
 */
async function envoyCounters(adminPort) {
  const response = await fetch(`http://127.0.0.1:${adminPort}/stats`, { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`Envoy admin /stats answered ${response.status}`);
  const counters = {};
  for (const line of (await response.text()).split('\n')) {
    const match = /^wasmcustom\.policy=\.=([^;]*);\.;mode=\.=([^;]*);\.;outcome=\.=([^;]*);\.;cors_requests_total: (\d+)$/.exec(line);
    if (!match) continue;
    const [, policy, mode, outcome, count] = match;
    counters[mode === 'shadow' ? `${policy}.shadow.${outcome}` : `${policy}.${outcome}`] = Number(count);
  }
  return counters;
}
