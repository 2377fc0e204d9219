import assert from "node:assert/strict";
import { Hono } from "hono";
import type { ComponentChildren } from "preact";
import {
  type Context,
  createDefine,
  Head,
  HttpError,
  type Manifest,
  mountRoutes,
  NO_ISLAND_ASSETS,
  page,
  type PageProps,
} from "../../lib/web/mod.ts";
import { buildRouteTable } from "../../lib/web/routes.ts";

interface TestState {
  trail: string[];
}
const define = createDefine<TestState>();

function Shell(name: string) {
  return ({ Component }: PageProps<unknown, TestState>) => (
    <div data-wrap={name}>
      <Component />
    </div>
  );
}

function text(value: ComponentChildren) {
  return () => <p>{value}</p>;
}

/** A site exercising every routing rule, built in memory. */
function site(overrides: Manifest["routes"] = {}): Manifest {
  return {
    routes: {
      "./routes/_app.tsx": {
        default: ({ Component }: PageProps<unknown, TestState>) => (
          <html>
            <body>
              <Component />
            </body>
          </html>
        ),
      },
      "./routes/_layout.tsx": { default: Shell("root") },
      "./routes/_middleware.ts": {
        handler: define.middleware(async (ctx) => {
          ctx.state.trail.push("root");
          const response = await ctx.next();
          response.headers.set("x-trail", ctx.state.trail.join(">"));
          return response;
        }),
      },
      "./routes/_error.tsx": {
        default: ({ error }: PageProps<unknown, TestState>) => (
          <h1>
            error {error instanceof HttpError ? error.status : 500}:{" "}
            {error instanceof HttpError ? error.message : "internal"}
          </h1>
        ),
      },
      "./routes/index.tsx": { default: text("home") },
      "./routes/(marketing)/_layout.tsx": { default: Shell("marketing") },
      "./routes/(marketing)/_middleware.ts": {
        handler: [
          define.middleware((ctx) => {
            ctx.state.trail.push("marketing-1");
            return ctx.next();
          }),
          define.middleware((ctx) => {
            ctx.state.trail.push("marketing-2");
            return ctx.next();
          }),
        ],
      },
      "./routes/(marketing)/about.tsx": { default: text("about") },
      "./routes/blog/index.tsx": { default: text("blog index") },
      "./routes/blog/new.tsx": { default: text("new post") },
      "./routes/blog/[slug].tsx": {
        handler: define.handlers({
          GET: (ctx) => page({ slug: ctx.params.slug }, { headers: { "x-slug": ctx.params.slug } }),
        }),
        default: ({ data }: PageProps<{ slug: string }, TestState>) => <p>post {data.slug}</p>,
      },
      "./routes/files/[...path].ts": {
        handler: (ctx: Context<TestState>) => new Response(`file ${ctx.params.path}`),
      },
      "./routes/form.tsx": {
        handler: define.handlers({
          GET: () => page(undefined),
          POST: () => page(undefined, { status: 201 }),
        }),
        default: text("form"),
      },
      "./routes/guarded/_middleware.ts": {
        handler: define.middleware(() => new Response("stopped", { status: 401 })),
      },
      "./routes/guarded/secret.tsx": { default: text("secret") },
      "./routes/fail.tsx": {
        handler: () => {
          throw new HttpError(403, "Not yours");
        },
      },
      "./routes/crash.tsx": {
        handler: () => {
          throw new Error("kaboom");
        },
      },
      "./routes/api/_error.ts": {
        handler: (ctx: Context<TestState>) =>
          Response.json({ error: (ctx.error as HttpError).status ?? 500 }, {
            status: ctx.error instanceof HttpError ? ctx.error.status : 500,
          }),
      },
      "./routes/api/ping.ts": { handler: { POST: () => Response.json({ pong: true }) } },
      ...overrides,
    },
    islands: {},
  };
}

function serve(manifest: Manifest = site()) {
  const errors: unknown[] = [];
  const app = new Hono();
  mountRoutes(app, {
    manifest,
    assets: NO_ISLAND_ASSETS,
    state: (): TestState => ({ trail: [] }),
    onServerError: (error) => errors.push(error),
  });
  return {
    errors,
    get: (path: string, init?: RequestInit) => app.request(path, init),
  };
}

Deno.test("file routes map to URL patterns", () => {
  const patterns = buildRouteTable(site()).routes.map((r) => `${r.pattern} ← ${r.file}`);
  assert.deepEqual(patterns, [
    "/ ← ./routes/index.tsx",
    "/about ← ./routes/(marketing)/about.tsx",
    "/api/ping ← ./routes/api/ping.ts",
    "/blog ← ./routes/blog/index.tsx",
    "/blog/new ← ./routes/blog/new.tsx",
    "/blog/:slug ← ./routes/blog/[slug].tsx",
    "/crash ← ./routes/crash.tsx",
    "/fail ← ./routes/fail.tsx",
    "/files/:path{.+} ← ./routes/files/[...path].ts",
    "/form ← ./routes/form.tsx",
    "/guarded/secret ← ./routes/guarded/secret.tsx",
  ]);
});

Deno.test("params, catch-alls and static segments resolve to the right route", async () => {
  const { get } = serve();
  assert.ok((await (await get("/blog/new")).text()).includes("<p>new post</p>"));
  const post = await get("/blog/hello-world");
  assert.deepEqual(post.headers.get("x-slug"), "hello-world");
  assert.ok((await post.text()).includes("<p>post hello-world</p>"));
  assert.deepEqual(await (await get("/files/a/b/c.txt")).text(), "file a/b/c.txt");
  assert.ok((await (await get("/blog")).text()).includes("blog index"));
});

Deno.test("a group folder adds layouts and middleware but no URL segment", async () => {
  const { get } = serve();
  const about = await get("/about");
  assert.deepEqual(about.status, 200);
  assert.deepEqual(about.headers.get("x-trail"), "root>marketing-1>marketing-2");
  const html = await about.text();
  assert.ok(
    html.includes(
      '<!DOCTYPE html><html><body><div data-wrap="root"><div data-wrap="marketing"><p>about</p>',
    ),
    html,
  );
  // Outside the group, only the root's layout and middleware apply.
  const home = await get("/");
  assert.deepEqual(home.headers.get("x-trail"), "root");
  assert.ok((await home.text()).includes('<div data-wrap="root"><p>home</p></div>'));
});

Deno.test("middleware can answer without reaching the route", async () => {
  const { get } = serve();
  const response = await get("/guarded/secret");
  assert.deepEqual(response.status, 401);
  assert.deepEqual(await response.text(), "stopped");
  assert.deepEqual(response.headers.get("x-trail"), "root");
});

Deno.test("handlers keyed by method: others get 405 with Allow, HEAD falls back to GET", async () => {
  const { get } = serve();
  const created = await get("/form", { method: "POST" });
  assert.deepEqual(created.status, 201);
  const deleted = await get("/form", { method: "DELETE" });
  assert.deepEqual(deleted.status, 405);
  assert.deepEqual(deleted.headers.get("allow"), "GET, HEAD, POST");
  assert.ok((await deleted.text()).includes("error 405"));
  assert.deepEqual((await get("/form", { method: "HEAD" })).status, 200);
  const pageOnly = await get("/about", { method: "POST" });
  assert.deepEqual(pageOnly.status, 405);
  assert.deepEqual(pageOnly.headers.get("allow"), "GET, HEAD");
  const apiGet = await get("/api/ping");
  assert.deepEqual(apiGet.status, 405);
  assert.deepEqual(await apiGet.json(), { error: 405 });
});

Deno.test("unknown URLs render the nearest _error page with 404, after folder middleware", async () => {
  const { get } = serve();
  const missing = await get("/no/such/page");
  assert.deepEqual(missing.status, 404);
  assert.deepEqual(missing.headers.get("x-trail"), "root");
  const html = await missing.text();
  assert.ok(html.includes("<h1>error 404: Page not found</h1>"), html);
  assert.ok(html.startsWith("<!DOCTYPE html><html><body>"), "error pages are wrapped in _app");
  const api = await get("/api/nothing");
  assert.deepEqual(api.status, 404);
  assert.deepEqual(await api.json(), { error: 404 });
});

Deno.test("HttpError picks the status; other errors are 500s reported to the server log", async () => {
  const { get, errors } = serve();
  const forbidden = await get("/fail");
  assert.deepEqual(forbidden.status, 403);
  assert.ok((await forbidden.text()).includes("error 403: Not yours"));
  assert.deepEqual(errors.length, 0);
  const crash = await get("/crash");
  assert.deepEqual(crash.status, 500);
  assert.ok((await crash.text()).includes("error 500: internal"));
  assert.deepEqual((errors[0] as Error).message, "kaboom");
});

Deno.test("ctx.redirect never sends the browser to another host", async () => {
  const { get } = serve(site({
    "./routes/go.ts": {
      handler: (ctx: Context<TestState>) => ctx.redirect(ctx.url.searchParams.get("to")!),
    },
  }));
  assert.deepEqual((await get("/go?to=/settings")).headers.get("location"), "/settings");
  assert.deepEqual(
    (await get("/go?to=//evil.example/x")).headers.get("location"),
    "/evil.example/x",
  );
  assert.deepEqual((await get("/go?to=/\\evil.example")).headers.get("location"), "/evil.example");

  // Browsers drop tabs and newlines and trim spaces before they parse a Location, so these
  // would be `//evil.example` to them.
  for (
    const to of ["/\t/evil.example", "/\n/evil.example", " //evil.example", "\t\\/evil.example"]
  ) {
    const location = (await get(`/go?to=${encodeURIComponent(to)}`)).headers.get("location")!;
    assert.equal(new URL(location, "http://site.test/a/b").host, "site.test", JSON.stringify(to));
  }
  const injected = await get(`/go?to=${encodeURIComponent("/ok\r\nSet-Cookie: x=1")}`);
  assert.equal(injected.status, 302, "a newline in a location is dropped, not a failure");
  assert.equal(injected.headers.get("location"), "/okSet-Cookie: x=1");
});

Deno.test("route definitions that cannot work are rejected when the table is built", () => {
  const duplicate = () =>
    buildRouteTable(site({ "./routes/(other)/about.tsx": { default: text("again") } }));
  assert.throws(duplicate, { name: "RouteDefinitionError", message: /both serve \/about/ });
  const empty = () => buildRouteTable(site({ "./routes/empty.ts": {} }));
  assert.throws(empty, {
    name: "RouteDefinitionError",
    message: /exports neither handler nor a page/,
  });
  const badMethod = () =>
    buildRouteTable(site({ "./routes/x.ts": { handler: { FETCH: () => new Response() } } }));
  assert.throws(badMethod, {
    name: "RouteDefinitionError",
    message: /handler\.FETCH must be a function named after an HTTP method/,
  });
  const misplacedRest = () =>
    buildRouteTable(site({ "./routes/[...a]/b.tsx": { default: text("b") } }));
  assert.throws(misplacedRest, {
    name: "RouteDefinitionError",
    message: /must be the last segment/,
  });
});

Deno.test("OPTIONS without its own handler answers 204 with the methods the route allows", async () => {
  const { get } = serve();
  const options = await get("/form", { method: "OPTIONS" });
  assert.equal(options.status, 204);
  assert.equal(options.headers.get("allow"), "GET, HEAD, POST");
  assert.equal((await get("/api/ping", { method: "OPTIONS" })).headers.get("allow"), "POST");
});

Deno.test("one context travels through the chain: a replaced ctx.req reaches the handler", async () => {
  const { get } = serve(site({
    "./routes/rewritten/_middleware.ts": {
      handler: define.middleware((ctx) => {
        ctx.req = new Request(ctx.req, { headers: { "x-added": "by middleware" } });
        return ctx.next();
      }),
    },
    "./routes/rewritten/[name].ts": {
      handler: (ctx: Context<TestState>) =>
        Response.json({
          added: ctx.req.headers.get("x-added"),
          route: ctx.route,
          peer: ctx.info.remoteAddr,
        }),
    },
  }));
  assert.deepEqual(await (await get("/rewritten/x")).json(), {
    added: "by middleware",
    route: "/rewritten/:name",
    peer: { transport: "tcp", hostname: "", port: 0 },
  });
});

Deno.test("async pages and layouts are awaited; pages get req and route", async () => {
  const { get } = serve(site({
    "./routes/slow/_layout.tsx": {
      default: define.layout(async ({ Component }) => {
        await Promise.resolve();
        return (
          <div data-wrap="slow">
            <Component />
          </div>
        );
      }),
    },
    "./routes/slow/[id].tsx": {
      default: define.page(async ({ req, route, params }) => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        return <p>{req.method} {route} {params.id}</p>;
      }),
    },
  }));
  const html = await (await get("/slow/7")).text();
  assert.ok(html.includes('<div data-wrap="slow"><p>GET /slow/:id 7</p></div>'), html);
});

Deno.test("<Head> from a page replaces the title and description _app declares", async () => {
  const app = ({ Component }: PageProps<unknown, TestState>) => (
    <html>
      <head>
        <meta charset="utf-8" />
        <Head>
          <title>Site</title>
          <meta name="description" content="the site" />
        </Head>
      </head>
      <body>
        <Component />
      </body>
    </html>
  );
  const { get } = serve(site({
    "./routes/_app.tsx": { default: app },
    "./routes/titled.tsx": {
      default: () => (
        <>
          <Head>
            <title>Titled page</title>
            <meta name="description" content="about this page" />
            <link rel="canonical" href="/titled" />
          </Head>
          <p>titled</p>
        </>
      ),
    },
  }));
  const titled = await (await get("/titled")).text();
  assert.equal(titled.match(/<title>/g)?.length, 1, titled);
  assert.ok(
    titled.includes(
      '<head><meta charset="utf-8"/><title>Titled page</title>' +
        '<meta name="description" content="about this page"/><link rel="canonical" href="/titled"/>' +
        "</head>",
    ),
    titled,
  );
  const plain = await (await get("/")).text();
  assert.ok(plain.includes("<title>Site</title>"), plain);
  assert.ok(!plain.includes("<Head"), plain);
});

Deno.test("a route's config: routeOverride fixes its path, maxBodyBytes its body limit", async () => {
  const manifest = site({
    "./routes/hooks/whatever-the-file-is-called.ts": {
      config: { routeOverride: "/incoming/hook", maxBodyBytes: 16 },
      handler: { POST: async (ctx: Context<TestState>) => new Response(await ctx.req.text()) },
    },
    "./routes/api/echo.ts": {
      handler: { POST: async (ctx: Context<TestState>) => new Response(await ctx.req.text()) },
    },
  });
  const app = new Hono();
  mountRoutes(app, {
    manifest,
    assets: NO_ISLAND_ASSETS,
    state: (): TestState => ({ trail: [] }),
    onServerError: () => {},
    body: { maxBytes: 8, tooLarge: (max) => new Response(`over ${max}`, { status: 413 }) },
  });
  const post = (path: string, body: string) => app.request(path, { method: "POST", body });
  assert.equal(await (await post("/incoming/hook", "sixteen bytes!!!")).text(), "sixteen bytes!!!");
  const hookTooBig = await post("/incoming/hook", "seventeen bytes!!");
  assert.deepEqual([hookTooBig.status, await hookTooBig.text()], [413, "over 16"]);
  const echoTooBig = await post("/api/echo", "nine byte");
  assert.deepEqual([echoTooBig.status, await echoTooBig.text()], [413, "over 8"]);
  assert.equal((await post("/hooks/whatever-the-file-is-called", "x")).status, 404);
  assert.throws(
    () =>
      buildRouteTable(site({
        "./routes/bad.ts": { config: { routeOverride: "no-slash" }, handler: () => new Response() },
      })),
    { name: "RouteDefinitionError", message: /routeOverride must be a path/ },
  );
});

Deno.test("HttpError has Fresh's shape: a status, a message, its own name", () => {
  const error = new HttpError(418, "I'm a teapot", { cause: "tea" });
  assert.deepEqual([error.status, error.message, error.name, error.cause], [
    418,
    "I'm a teapot",
    "HttpError",
    "tea",
  ]);
  assert.equal(new HttpError(404).message, "Page not found");
});
