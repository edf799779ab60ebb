// The Worker's entry module, in front of what `worker-build --release`
// generates in build/.
//
// worker-build's default export is a class that the runtime constructs for
// every request, wrapped in Proxies whose only job is to re-instantiate the
// wasm module after it trapped. That costs about 10 µs of the 95 µs a
// preflight takes in workerd (perf, 2026-12-05), more than the engine itself.
// This entry is a plain object: it calls the same handler directly, and
// keeps the recovery: while worker-build's flag says the module trapped, a
// request takes the class's own path, which re-instantiates the module first.
//
// It relies on two details of worker-build 0.8.7 (pinned in scripts/setup.sh):
// the flag object on `globalThis.__worker_init_state`, and the handler on the
// class's prototype. The end-to-end tests run every request through here.
import Entrypoint from "./build/index.js";

const initState = globalThis.__worker_init_state;
const handle = Entrypoint.prototype.fetch;

export default {
  fetch(request, env, ctx) {
    if (initState.criticalError) {
      return new Entrypoint(ctx, env).fetch(request);
    }
    try {
      return handle.call({ env, ctx }, request);
    } catch (error) {
      if (error instanceof WebAssembly.RuntimeError) {
        console.error("Critical", error);
        initState.criticalError = true;
      }
      throw error;
    }
  },
};
