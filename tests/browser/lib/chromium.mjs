// Headless Chromium, driven by playwright-core, on a closed network.
import { chromiumBinary, requireTool } from './tools.mjs';

/**
 * Every name the tests use resolves to loopback, so pages and the API get
 * real-looking, distinct origins while all traffic stays on 127.0.0.1.
 * (`localhost` needs no rule: Chromium resolves it to loopback itself.)
 */
const HOST_RULES = ['*.example.com', 'example.com', '*.example.net']
  .map((pattern) => `MAP ${pattern} 127.0.0.1`)
  .join(', ');

const FLAGS = [
  '--no-sandbox', // the tests run as root
  '--disable-gpu',
  '--no-first-run',
  // Without these Chromium keeps opening connections to Google's services,
  // which this machine's closed network refuses.
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  `--host-resolver-rules=${HOST_RULES}`,
];

/** Launches headless Chromium; close it with `browser.close()`. */
export async function launchChromium() {
  const { chromium } = requireTool('playwright-core');
  return chromium.launch({
    executablePath: chromiumBinary(),
    args: FLAGS,
    timeout: 30_000,
  });
}

/**
 * Opens `pageUrl` in a fresh browser context: its own cookie jar and its own
 * CORS preflight cache, so tests cannot see each other's state.
 * Returns `{ context, call }`, where `call(url, init)` runs `fetch(url, init)`
 * in the page's script and returns what that script could see, plus, when the
 * browser refused the answer, the reason it logged to the console (`reason`):
 * scripts only ever see a bare `TypeError`.
 */
export async function openPage(browser, pageUrl) {
  const context = await browser.newContext();
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  const response = await page.goto(pageUrl);
  if (!response?.ok()) throw new Error(`the test page ${pageUrl} did not load: ${response?.status()}`);

  const call = async (url, init = {}) => {
    const logged = [];
    const listener = (message) => logged.push(message.text());
    page.on('console', listener);
    try {
      const result = await page.evaluate(fetchInPage, { url, init });
      if (result.error === 'TypeError') {
        const blocked = `Access to fetch at '${new URL(url, page.url())}'`;
        result.reason = await eventually(() => logged.find((text) => text.startsWith(blocked)), 5_000);
      }
      return result;
    } finally {
      page.off('console', listener);
    }
  };
  return { context, call };
}

/** The first truthy `probe()` within `ms`, polled; `undefined` after that. */
async function eventually(probe, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

// Runs inside the page. A CORS refusal surfaces to scripts only as a
// `TypeError` with no detail; a hang surfaces as `TimeoutError`, so the two
// cannot be confused.
async function fetchInPage({ url, init }) {
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
    return {
      status: response.status,
      body: await response.text(),
      // What the script may read: safelisted and exposed names only.
      headers: Object.fromEntries(response.headers),
    };
  } catch (err) {
    return { error: err.name, message: err.message };
  }
}
