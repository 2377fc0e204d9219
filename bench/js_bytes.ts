/**
 * JavaScript shipped per page: every script the page loads (its module script and the module
 * preloads beside it, or any inline script), gzip-compressed as a browser would receive it.
 */
import type { TestApp } from "../tests/helpers/app.ts";

/** The aim for any one page. */
export const JS_AIM_BYTES = 10 * 1024;

export interface PageJs {
  path: string;
  /** Script URLs counted, module script first. */
  scripts: string[];
  gzippedBytes: number;
}

export async function measureJsBytes(
  app: TestApp,
  pages: { path: string; cookie?: string }[],
): Promise<PageJs[]> {
  const measured: PageJs[] = [];
  for (const { path, cookie } of pages) {
    const response = await app.fetch(path, { headers: cookie ? { cookie } : {} });
    const html = await response.text();
    if (response.status !== 200) throw new Error(`${path} answered ${response.status}`);
    const { urls, inline } = scriptsOf(html);
    let gzippedBytes = 0;
    for (const url of urls) {
      const script = await app.fetch(url);
      if (script.status !== 200) throw new Error(`${url} (on ${path}) answered ${script.status}`);
      gzippedBytes += await gzippedSize(new Uint8Array(await script.arrayBuffer()));
    }
    for (const text of inline) gzippedBytes += await gzippedSize(new TextEncoder().encode(text));
    measured.push({ path, scripts: urls, gzippedBytes });
  }
  return measured;
}

/** Script sources and module preloads (each once), and the text of inline scripts. */
export function scriptsOf(html: string): { urls: string[]; inline: string[] } {
  const urls = new Set<string>();
  const inline: string[] = [];
  for (const [, attributes, body] of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) {
    const src = attribute(attributes, "src");
    if (src) urls.add(src);
    else if (body.trim()) inline.push(body);
  }
  for (const [, attributes] of html.matchAll(/<link\b([^>]*)>/gi)) {
    const href = attribute(attributes, "href");
    if (attribute(attributes, "rel") === "modulepreload" && href) urls.add(href);
  }
  return { urls: [...urls], inline };
}

function attribute(attributes: string, name: string): string | null {
  return new RegExp(`(?:^|\\s)${name}="([^"]*)"`, "i").exec(attributes)?.[1] ?? null;
}

async function gzippedSize(bytes: Uint8Array<ArrayBuffer>): Promise<number> {
  const compressed = new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"));
  return (await new Response(compressed).arrayBuffer()).byteLength;
}
