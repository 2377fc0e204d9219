/**
 * Page rendering: the page inside its layouts inside `_app`, to an HTML document. When the render
 * placed islands, the document gets their preload links and the one module script that hydrates
 * them; otherwise it ships no JavaScript at all.
 */
import { type ComponentType, h, type VNode } from "preact";
import { renderToString } from "preact-render-to-string";
import type { PageProps } from "./define.ts";
import { collectIslands } from "./islands.ts";
import type { IslandAssets } from "./assets.ts";

type AnyPage = ComponentType<PageProps<unknown, unknown>>;

export interface RenderInput {
  page: AnyPage;
  layouts: AnyPage[];
  app: AnyPage | null;
  props: Omit<PageProps<unknown, unknown>, "Component">;
  status: number;
  headers?: HeadersInit;
  assets: IslandAssets;
}

export function renderPage(input: RenderInput): Response {
  const { page, layouts, app, props, assets } = input;
  let tree = element(page, { ...props, Component: Empty });
  for (const wrapper of [...layouts].reverse().concat(app ? [app] : [])) {
    const inner = tree;
    tree = element(wrapper, { ...props, Component: () => inner });
  }
  const { result: body, islands } = collectIslands(() => renderToString(tree));
  const html = islands.size ? withIslandScripts(body, islands, assets) : body;
  const headers = new Headers(input.headers);
  headers.set("content-type", "text/html; charset=utf-8");
  return new Response(`<!DOCTYPE html>${html}`, { status: input.status, headers });
}

function Empty() {
  return null;
}

function element(component: AnyPage, props: PageProps<unknown, unknown>): VNode {
  return h(component, props) as VNode;
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
  const links = [...preloads].map((url) => `<link rel="modulepreload" href="${url}">`).join("");
  const script = `<script type="module" src="${boot}"></script>`;
  return insertBefore(insertBefore(html, "</head>", links), "</body>", script);
}

function insertBefore(html: string, marker: string, text: string): string {
  const at = html.lastIndexOf(marker);
  return at === -1 ? html + text : html.slice(0, at) + text + html.slice(at);
}
