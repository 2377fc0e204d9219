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
  let html = insertBefore(rendered.result, "</head>", rendered.head);
  if (islands.size) html = withIslandScripts(html, islands, assets);
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

function withIslandScripts(html: string, islands: Set<string>, assets: IslandAssets): string {
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
  const script = `<script type="module" src="${boot}"></script>`;
  return insertBefore(insertBefore(html, "</head>", links), "</body>", script);
}

function insertBefore(html: string, marker: string, text: string): string {
  if (!text) return html;
  const at = html.lastIndexOf(marker);
  return at === -1 ? html + text : html.slice(0, at) + text + html.slice(at);
}
