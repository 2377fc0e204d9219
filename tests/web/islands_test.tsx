import assert from "node:assert/strict";
import { Hono } from "hono";
import { useState } from "preact/hooks";
import type { Manifest, PageProps } from "../../lib/web/mod.ts";
import { Head, mountRoutes } from "../../lib/web/mod.ts";
import { IslandPropsError, serialiseIslandProps } from "../../lib/web/islands.ts";
import type { IslandAssets } from "../../lib/web/mod.ts";

function Toggle(props: { label: string; items?: number[] }) {
  const [on, setOn] = useState(false);
  return (
    <button type="button" onClick={() => setOn(!on)}>
      {props.label}: {on ? "on" : "off"}
    </button>
  );
}

function Outer(props: { title: string }) {
  return (
    <section>
      {props.title}
      <Toggle label="inner" />
    </section>
  );
}

const assets: IslandAssets = {
  boot: "/_build/islands/boot-TEST.js",
  style: "/_build/islands/boot-TEST.css",
  islands: {
    Toggle: { preload: ["/_build/islands/Toggle-1.js", "/_build/islands/chunk-1.js"] },
    Outer: { preload: ["/_build/islands/Outer-1.js", "/_build/islands/chunk-1.js"] },
  },
  files: new Map(),
};

const App = ({ Component }: PageProps) => (
  <html>
    <head>
      <title>t</title>
    </head>
    <body>
      <Component />
    </body>
  </html>
);

function serve(pageBody: () => preact.JSX.Element, app: typeof App = App) {
  const errors: unknown[] = [];
  const manifest: Manifest = {
    routes: {
      "./routes/_app.tsx": { default: app },
      "./routes/index.tsx": { default: pageBody },
    },
    islands: {
      "./islands/Toggle.tsx": { default: Toggle },
      "./islands/Outer.tsx": { default: Outer },
    },
  };
  const server = new Hono();
  mountRoutes(server, {
    manifest,
    assets,
    state: () => ({}),
    onServerError: (error) => errors.push(error),
  });
  return { errors, get: async () => await server.request("/") };
}

Deno.test("an island renders inside a marker with its props, plus one module script", async () => {
  const { get } = serve(() => (
    <main>
      <Toggle label="Alerts" items={[1, 2]} />
      <Toggle label="Digest" />
    </main>
  ));
  const html = await (await get()).text();
  assert.ok(
    html.includes(
      '<island-root data-island="Toggle" data-props="{&quot;label&quot;:&quot;Alerts&quot;,&quot;items&quot;:[1,2]}"><button type="button">Alerts: off</button></island-root>',
    ),
    html,
  );
  assert.equal(html.match(/<script/g)?.length, 1);
  assert.ok(
    html.includes('<script type="module" src="/_build/islands/boot-TEST.js"></script></body>'),
  );
  assert.equal(html.match(/rel="modulepreload"/g)?.length, 2, "each chunk preloaded once");
  assert.ok(html.indexOf("modulepreload") < html.indexOf("</head>"));
  const stylesheet = '<link rel="stylesheet" href="/_build/islands/boot-TEST.css">';
  assert.ok(html.indexOf(stylesheet) < html.indexOf("</head>"), "the wrappers' own stylesheet");
});

Deno.test("head elements come before the island links, in a document with or without its tags", async () => {
  const page = () => (
    <>
      <Head>
        <meta name="description" content="d" />
      </Head>
      <Toggle label="x" />
    </>
  );
  const links = '<link rel="stylesheet" href="/_build/islands/boot-TEST.css">' +
    '<link rel="modulepreload" href="/_build/islands/Toggle-1.js">' +
    '<link rel="modulepreload" href="/_build/islands/chunk-1.js">';
  const script = '<script type="module" src="/_build/islands/boot-TEST.js"></script>';
  const head = `<meta name="description" content="d"/>`;
  const whole = await (await serve(page).get()).text();
  assert.ok(whole.includes(`<title>t</title>${head}${links}</head><body>`), whole);
  assert.ok(whole.endsWith(`</island-root>${script}</body></html>`), whole);
  // Nowhere to put them: appended, in the same order.
  const fragment = await (await serve(page, ({ Component }) => <Component />).get()).text();
  assert.ok(fragment.endsWith(`</island-root>${head}${links}${script}`), fragment);
});

Deno.test("a page without islands ships no JavaScript at all", async () => {
  const { get } = serve(() => <main>static</main>);
  const html = await (await get()).text();
  assert.ok(!html.includes("<script"), html);
  assert.ok(!html.includes("modulepreload"), html);
  assert.ok(!html.includes("island-root"), html);
  assert.ok(!html.includes("stylesheet"), html);
});

Deno.test("an island inside another island is hydrated by its parent, not marked again", async () => {
  const { get } = serve(() => <Outer title="Box" />);
  const html = await (await get()).text();
  assert.equal(html.match(/<island-root/g)?.length, 1, html);
  assert.ok(html.includes('data-island="Outer"'));
  assert.ok(html.includes('<button type="button">inner: off</button>'));
});

Deno.test("props that cannot be serialised fail the render with a message naming them", async () => {
  const { get, errors } = serve(() => (
    // deno-lint-ignore no-explicit-any
    <Toggle label="x" {...({ onChange: () => {} } as any)} />
  ));
  const response = await get();
  assert.equal(response.status, 500);
  assert.ok(!(await response.text()).includes("island-root"));
  assert.ok(errors[0] instanceof IslandPropsError);
  assert.match((errors[0] as Error).message, /island "Toggle": prop "onChange" is a function/);
});

Deno.test("island props must be JSON data all the way down", () => {
  const cases: [unknown, RegExp][] = [
    [{ when: new Date(0) }, /prop "when" is an instance of Date/],
    [{ list: [1, undefined] }, /prop "list\[1\]" is undefined/],
    [{ n: NaN }, /prop "n" is the number NaN/],
    [{ big: 1n }, /prop "big" is a bigint/],
    [{ deep: { map: new Map() } }, /prop "deep\.map" is an instance of Map/],
    [{ children: <b>hi</b> }, /prop "children" is a JSX element/],
  ];
  for (const [props, message] of cases) {
    assert.throws(
      () => serialiseIslandProps("Demo", props as Record<string, unknown>),
      (error: Error) => error instanceof IslandPropsError && message.test(error.message),
      String(message),
    );
  }
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.throws(() => serialiseIslandProps("Demo", { cyclic }), /refers back to itself/);

  const ok = { a: "x", b: 1.5, c: true, d: null, e: [{ f: [] }], skipped: undefined };
  assert.equal(
    serialiseIslandProps("Demo", ok),
    '{"a":"x","b":1.5,"c":true,"d":null,"e":[{"f":[]}]}',
  );
});
