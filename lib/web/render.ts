/**
 * Page rendering: the page inside its layouts inside `_app`, to an HTML document. Async pages,
 * layouts and `_app` are awaited first, then the tree renders in one synchronous pass. `<Head>`
 * elements go before `</head>`; when the render placed islands, the document also gets their
 * stylesheet, preload links and the one module script that hydrates them — otherwise it ships no
 * JavaScript at all.
 */
import { type ComponentType, h, type VNode } from "preact";
import { renderToString } from "preact-render-to-string";
import type { PageComponent, PageProps } from "./context.ts";
import { collectIslands } from "./islands.ts";
import { collectHead } from "./head.ts";
import type { IslandAssets } from "./assets.ts";

type AnyPage = PageComponent<unknown, unknown>;

export interface RenderInput {
  page: AnyPage;
  layouts: AnyPage[];
  app: AnyPage | null;
  props: Omit<PageProps<unknown, unknown>, "Component">;
  status: number;
  headers?: HeadersInit;
  assets: IslandAssets;
}

export async function renderPage(input: RenderInput): Promise<Response> {
  const { page, layouts, app, props, assets } = input;
  let tree = await element(page, { ...props, Component: Empty });
  for (const wrapper of [...layouts].reverse().concat(app ? [app] : [])) {
    const inner = tree;
    tree = await element(wrapper, { ...props, Component: () => inner });
  }
  const { result: rendered, islands } = collectIslands(() =>
    collectHead(() => renderToString(tree))
  );
  const scripts = islands.size ? islandScripts(islands, assets) : { head: "", body: "" };
  const html = withInsertions(rendered.result, rendered.head + scripts.head, scripts.body);
  const headers = new Headers(input.headers);
  headers.set("content-type", "text/html; charset=utf-8");
  return new Response(`<!DOCTYPE html>${html}`, { status: input.status, headers });
}

function Empty() {
  return null;
}

const AsyncFunction = (async () => {}).constructor;

/**
 * An async component is called here and awaited (Preact renders synchronously); any other is left
 * to Preact, so hooks work in it as usual.
 */
async function element(component: AnyPage, props: PageProps<unknown, unknown>): Promise<VNode> {
  if (component instanceof AsyncFunction) {
    return (await component(props)) ?? h(Empty, null) as VNode;
  }
  return h(component as ComponentType<PageProps<unknown, unknown>>, props) as VNode;
}

/** What a page with islands adds: stylesheet and preloads in its head, the module script last. */
function islandScripts(
  islands: Set<string>,
  assets: IslandAssets,
): { head: string; body: string } {
  const boot = assets.boot;
  if (!boot) {
    throw new Error(
      `this page uses islands (${[...islands].join(", ")}) but no island bundle was built; ` +
        "run `deno task build`",
    );
  }
  const preloads = new Set<string>();
  for (const name of islands) {
    const island = assets.islands[name];
    if (!island) throw new Error(`island "${name}" is missing from the island build`);
    island.preload.forEach((url) => preloads.add(url));
  }
  const links = [
    ...(assets.style ? [`<link rel="stylesheet" href="${assets.style}">`] : []),
    ...[...preloads].map((url) => `<link rel="modulepreload" href="${url}">`),
  ].join("");
  return { head: links, body: `<script type="module" src="${boot}"></script>` };
}

/**
 * `html` with `head` before its last `</head>` and `body` before its last `</body>` (at the end
 * where one is missing), cut and joined in one pass: the rendered document is a string of many
 * small pieces, which every search or cut of a new one joins into one again.
 */
function withInsertions(html: string, head: string, body: string): string {
  const insertions = [{ marker: "</head>", text: head }, { marker: "</body>", text: body }]
    .filter(({ text }) => text)
    .map(({ marker, text }) => {
      const at = html.lastIndexOf(marker);
      return { at: at === -1 ? html.length : at, text };
    })
    .sort((a, b) => a.at - b.at);
  let joined = "";
  let from = 0;
  for (const { at, text } of insertions) {
    joined += html.slice(from, at) + text;
    from = at;
  }
  return joined + html.slice(from);
}
