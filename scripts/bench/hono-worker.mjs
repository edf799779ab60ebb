// The same CORS policy as our Worker, written with Hono's `cors` middleware
// the way its docs show: the benchmark's reference point. The policy comes
// from the same CORS_CONFIG binding as our Worker's, so the two cannot drift;
// each field maps onto one `cors` option, and `match.paths` onto the route.
import { Hono } from "hono";
import { cors } from "hono/cors";

let app;

export default {
  fetch(request, env, ctx) {
    app ??= build(JSON.parse(env.CORS_CONFIG), env.ORIGIN_URL);
    return app.fetch(request, env, ctx);
  },
};

function build(config, originUrl) {
  const app = new Hono();
  for (const policy of config.policies) {
    for (const path of policy.match.paths) {
      app.use(
        path,
        cors({
          origin: policy.allow_origins,
          allowMethods: policy.allow_methods,
          allowHeaders: policy.allow_headers,
          exposeHeaders: policy.expose_headers,
          credentials: policy.allow_credentials,
          maxAge: policy.max_age,
        }),
      );
    }
  }
  app.all("*", (c) => {
    const url = new URL(c.req.url);
    return fetch(originUrl + url.pathname + url.search, {
      method: c.req.method,
      headers: c.req.raw.headers,
      body: c.req.raw.body,
      redirect: "manual",
    });
  });
  return app;
}
