// The browser tests, run once against Envoy (envoy.test.mjs) and once against
// the Worker (worker.test.mjs). Each test opens a page on one origin in a fresh
// browser context and calls the API behind the filter with fetch(); it asserts
// what the page's script could see, what reached the edge (the door), what
// reached the upstream, and what the filter recorded (Envoy's counters, the
// Worker's denial log).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { launchChromium, openPage } from './chromium.mjs';
import { browserConfig, pageOrigins } from './config.mjs';
import { startDoor } from './door.mjs';
import { startPageServer } from './pages.mjs';
import { buildServe, startStack } from './stack.mjs';

const UPSTREAM_BODY = 'upstream ok\n';

// What the upstream answers with, besides its body: a header the policies
// expose, one they do not, and CORS headers of its own that would open the API
// to every origin, with credentials, if the filter did not replace them.
const UPSTREAM_HEADERS = [
  'X-RateLimit-Remaining: 41',
  'X-Internal-Trace: t-9f2c',
  'Access-Control-Allow-Origin: *',
  'Access-Control-Allow-Credentials: true',
];
// The harness upstream's steering header: hex of the header lines to send.
const UPSTREAM_ANSWER = [
  ['x-e2e-upstream', Buffer.from(UPSTREAM_HEADERS.map((line) => `${line}\r\n`).join('')).toString('hex')],
];

// Why Chromium refused, as it logs it (scripts see only a bare TypeError).
// Every denied preflight reads alike, whichever check failed: the filter's 403
// carries no `Access-Control-Allow-*` header to tell the browser more.
const WHY = {
  noAllowOrigin: /blocked by CORS policy: No 'Access-Control-Allow-Origin' header is present/,
  preflightDenied: /blocked by CORS policy: Response to preflight request doesn't pass access control check: No 'Access-Control-Allow-Origin' header/,
  starWithCredentials: /must not be the wildcard '\*' when the request's credentials mode is 'include'/,
  noCredentials: /'Access-Control-Allow-Credentials' header in the response is '' which must be 'true'/,
};

/** Whether a `<policy>.<outcome>` names a refusal (what the Worker logs). */
const isDenial = (name) => /\.(preflight_denied_\w+|actual_denied|actual_rejected)$/.test(name);

export function browserSuite(target) {
  describe(`${target}: what a page's script sees`, () => {
    let serveBin, pages, otherPages, stack, door, browser;
    let origin; // page origins, by name
    let api; // API base URLs: `names` (api.example.com) and `localhost`

    before(
      async () => {
        browser = await launchChromium(); // first: the quickest to report a missing tool
        serveBin = await buildServe();
        pages = await startPageServer();
        otherPages = await startPageServer();
        origin = pageOrigins(pages.port, otherPages.port);
        stack = await startStack(serveBin, target, browserConfig(pages.port, otherPages.port));
        door = await startDoor(stack.proxyPort, UPSTREAM_ANSWER);
        api = { names: `http://api.example.com:${door.port}`, localhost: `http://localhost:${door.port}` };
      },
      { timeout: 660_000 }, // a cold `cargo build` of the serve binary
    );

    after(async () => {
      await browser?.close();
      await door?.close();
      await stack?.stop();
      await otherPages?.close();
      await pages?.close();
    });

    /** Runs `fn(call, context)` in a page at `pageOrigin` + `path`, in a fresh context. */
    async function inPage(pageOrigin, fn, path = '/') {
      const { context, call } = await openPage(browser, `${pageOrigin}${path}`);
      try {
        return await fn(call, context);
      } finally {
        await context.close();
      }
    }

    /** How many `method path` requests the upstream has received. */
    async function upstreamSaw(method, path) {
      return (await upstreamRequests(method, path)).length;
    }

    async function upstreamRequests(method, path) {
      return (await stack.upstreamRequests()).filter((r) => r.method === method && r.path === path);
    }

    /**
     * A snapshot of the outcomes the filter recorded; `check(expected)` then
     * asserts exactly which moved, and by how much. Envoy counts every
     * outcome; the Worker logs only denials, so there only the denied outcomes
     * of `expected` are checked. Log lines arrive a moment after the response,
     * so the check waits up to 3 s for the numbers to settle.
     */
    async function counting() {
      const before = await stack.outcomes();
      const movedSince = async () => {
        const moved = {};
        for (const [name, value] of Object.entries(await stack.outcomes())) {
          if (value !== (before[name] ?? 0)) moved[name] = value - (before[name] ?? 0);
        }
        return moved;
      };
      return {
        check: async (expected) => {
          const wanted = stack.deniedOnly
            ? Object.fromEntries(Object.entries(expected).filter(([name]) => isDenial(name)))
            : expected;
          let moved = await movedSince();
          for (const deadline = Date.now() + 3_000; !isDeepStrictEqual(moved, wanted) && Date.now() < deadline; ) {
            await new Promise((resolve) => setTimeout(resolve, 50));
            moved = await movedSince();
          }
          assert.deepEqual(moved, wanted, `the ${target} recorded other outcomes than expected`);
        },
      };
    }

    const ok = (result, what) => {
      assert.equal(result.error, undefined, `${what}: the script got ${result.error}: ${result.message}`);
      assert.equal(result.status, 200, what);
      assert.equal(result.body, UPSTREAM_BODY, what);
    };
    const refused = (result, what, why) => {
      assert.equal(result.error, 'TypeError', `${what}: expected a CORS failure, got ${JSON.stringify(result)}`);
      assert.match(result.reason ?? '(nothing logged)', why, `${what}: refused for another reason`);
    };

    test('an allowed origin reads the body and the exposed header, and no other header', async () => {
      const outcomes = await counting();
      for (const name of ['app', 'shop', 'deep']) {
        const path = `/api/profile?from=${name}`;
        const result = await inPage(origin[name], (call) => call(`${api.names}${path}`));
        ok(result, origin[name]);
        assert.equal(result.headers['x-ratelimit-remaining'], '41', `${origin[name]}: exposed header`);
        assert.equal(result.headers['x-internal-trace'], undefined, `${origin[name]}: unexposed header`);
        assert.equal(door.preflights(path).length, 0, `${origin[name]}: a simple GET needs no preflight`);
      }
      await outcomes.check({ 'api.actual_allowed': 3 });
    });

    test('a disallowed origin gets a TypeError; a preflighted request from it never reaches the upstream', async () => {
      const outcomes = await counting();
      for (const name of ['evil', 'bare', 'otherPort']) {
        const simple = `/api/orders?from=${name}`;
        const put = `/api/orders/1?from=${name}`;
        const [get, write] = await inPage(origin[name], async (call) => [
          await call(`${api.names}${simple}`),
          await call(`${api.names}${put}`, { method: 'PUT', headers: { 'X-CSRF-Token': 't' }, body: '{}' }),
        ]);
        refused(get, `${origin[name]} GET`, WHY.noAllowOrigin);
        // A simple request is sent anyway (disallowed: "pass"): the browser,
        // not the edge, keeps the answer from the script.
        const [seen] = await upstreamRequests('GET', simple);
        assert.equal(seen?.headers.origin, origin[name], `${origin[name]}: the upstream got the GET`);
        refused(write, `${origin[name]} PUT`, WHY.preflightDenied);
        assert.equal(door.preflights(put).length, 1, `${origin[name]}: the PUT was preflighted`);
        assert.equal(await upstreamSaw('OPTIONS', put), 0, `${origin[name]}: the preflight was answered at the edge`);
        assert.equal(await upstreamSaw('PUT', put), 0, `${origin[name]}: the refused PUT was never sent`);
      }
      await outcomes.check({ 'api.actual_denied': 3, 'api.preflight_denied_origin': 3 });
    });

    test('a credentialed fetch succeeds only where the policy allows credentials', async () => {
      const outcomes = await counting();
      const cookie = (domain) => ({ name: 'session', value: 's3cr3t', domain, path: '/', sameSite: 'Lax' });

      await inPage(origin.localhost, async (call, context) => {
        await context.addCookies([cookie('localhost')]);
        const allowed = await call(`${api.localhost}/account/me`, { credentials: 'include' });
        ok(allowed, '`account` allows credentials');
        assert.equal(allowed.headers['x-ratelimit-remaining'], '41');
        const [seen] = await upstreamRequests('GET', '/account/me');
        assert.equal(seen?.headers.cookie, 'session=s3cr3t', 'the cookie went along');

        const star = await call(`${api.localhost}/public/me`, { credentials: 'include' });
        refused(star, '`*` with credentials', WHY.starWithCredentials);
        const [sent] = await upstreamRequests('GET', '/public/me');
        assert.equal(sent?.headers.cookie, 'session=s3cr3t', 'the browser sent it and refused the `*` answer');
      });

      // `api` allows the origin but not credentials; the upstream's own
      // `Access-Control-Allow-Credentials: true` must not get through.
      await inPage(origin.app, async (call, context) => {
        await context.addCookies([cookie('api.example.com')]);
        const answer = await call(`${api.names}/api/me`, { credentials: 'include' });
        refused(answer, '`api` without credentials', WHY.noCredentials);
        const [sent] = await upstreamRequests('GET', '/api/me');
        assert.equal(sent?.headers.cookie, 'session=s3cr3t', 'the browser sent it and refused the answer');
      });
      await outcomes.check({ 'account.actual_allowed': 1, 'public.actual_allowed': 1, 'api.actual_allowed': 1 });
    });

    test('a PUT with listed headers is preflighted and succeeds; an unlisted header or method fails', async () => {
      const outcomes = await counting();
      await inPage(origin.shop, async (call) => {
        const json = { 'Content-Type': 'application/json', 'X-CSRF-Token': 't' };
        ok(await call(`${api.names}/api/items/1`, { method: 'PUT', headers: json, body: '{"n":1}' }), 'listed headers');
        const [allowed] = door.preflights('/api/items/1');
        assert.equal(allowed?.headers['access-control-request-method'], 'PUT');
        // Chromium's format: lowercase, sorted, joined by a bare comma.
        assert.equal(allowed?.headers['access-control-request-headers'], 'content-type,x-csrf-token');
        assert.equal(await upstreamSaw('PUT', '/api/items/1'), 1);

        const unlisted = { 'X-CSRF-Token': 't', 'X-Debug': '1' };
        const header = await call(`${api.names}/api/items/2`, { method: 'PUT', headers: unlisted });
        refused(header, 'unlisted header', WHY.preflightDenied);
        assert.equal(door.preflights('/api/items/2').length, 1);
        assert.equal(await upstreamSaw('PUT', '/api/items/2'), 0, 'the refused PUT was never sent');

        const method = await call(`${api.names}/api/items/3`, { method: 'PATCH', headers: json });
        refused(method, 'unlisted method', WHY.preflightDenied);
        assert.equal(door.preflights('/api/items/3').length, 1);
        assert.equal(await upstreamSaw('PATCH', '/api/items/3'), 0, 'the refused PATCH was never sent');
      });
      await outcomes.check({
        'api.preflight_allowed': 1,
        'api.actual_allowed': 1,
        'api.preflight_denied_headers': 1,
        'api.preflight_denied_method': 1,
      });
    });

    test('within max_age a second identical request sends no preflight', async () => {
      const outcomes = await counting();
      await inPage(origin.app, async (call) => {
        const init = { method: 'PUT', headers: { 'X-CSRF-Token': 't' }, body: '{}' };
        ok(await call(`${api.names}/api/cart`, init), 'first PUT');
        ok(await call(`${api.names}/api/cart`, init), 'second PUT');
      });
      assert.equal(door.preflights('/api/cart').length, 1, 'one preflight, cached for max_age');
      assert.equal(await upstreamSaw('PUT', '/api/cart'), 2);
      await outcomes.check({ 'api.preflight_allowed': 1, 'api.actual_allowed': 2 });
    });

    test('`disallowed: "reject"` stops a cross-origin POST at the edge but serves the same-origin page', async () => {
      const outcomes = await counting();
      await inPage(origin.evil, async (call) => {
        const post = await call(`${api.names}/strict/comment`, { method: 'POST', body: 'spam' });
        refused(post, 'cross-origin POST', WHY.noAllowOrigin);
        assert.equal(await upstreamSaw('POST', '/strict/comment'), 0, 'rejected at the edge, unlike `pass`');
      });
      // A page served through the filter itself, by the upstream: its fetch()
      // calls are same-origin, and a same-origin POST carries an Origin that
      // `strict` does not list.
      await inPage(api.names, async (call) => {
        ok(await call('/strict/comment', { method: 'POST', body: 'hello' }), 'same-origin POST');
        const [post] = await upstreamRequests('POST', '/strict/comment');
        assert.equal(post?.headers.origin, api.names, 'Chromium sends Origin on a same-origin POST');
        ok(await call('/strict/feed'), 'same-origin GET');
        const [get] = await upstreamRequests('GET', '/strict/feed');
        assert.equal(get?.headers.origin, undefined, 'and none on a same-origin GET');
      }, '/strict/page');
      await outcomes.check({
        'strict.actual_rejected': 1,
        'strict.actual_no_origin': 2, // the navigation and the GET
        'strict.actual_same_origin': 1,
      });
    });

    test('a `*` policy lets any origin read, and still refuses unlisted methods', async () => {
      const outcomes = await counting();
      await inPage(origin.evil, async (call) => {
        const read = await call(`${api.names}/public/news`);
        ok(read, 'GET from any origin');
        assert.equal(read.headers['x-ratelimit-remaining'], '41', 'exposed under `*` too');
        const put = await call(`${api.names}/public/news`, { method: 'PUT', body: 'x' });
        refused(put, 'PUT under a GET-only `*`', WHY.preflightDenied);
        assert.equal(door.preflights('/public/news').length, 1);
        assert.equal(await upstreamSaw('PUT', '/public/news'), 0);
      });
      await outcomes.check({ 'public.actual_allowed': 1, 'public.preflight_denied_method': 1 });
    });
  });
}
