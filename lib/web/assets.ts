/**
 * The island build's output as the server sees it: `_build/islands.json` describes the bundles in
 * `_build/islands/` (written by `build.ts`). Loading it only reads files, so the production
 * server needs no bundler and no write access.
 */

export const BUILD_DIR = new URL("../../_build/", import.meta.url);

export function buildPaths(buildDir: URL) {
  return { bundles: new URL("islands/", buildDir), info: new URL("islands.json", buildDir) };
}
/** URL path under which the bundles are served. */
export const ISLAND_URL_PREFIX = "/_build/islands/";

export interface IslandBuildInfo {
  /** File name of the hydration entry point. */
  boot: string;
  /** File name of the runtime's own stylesheet for the island wrappers. */
  style: string;
  /** Island name → bundle files to preload when the island is on a page. */
  islands: Record<string, { preload: string[] }>;
  /** Source file → content hash, to tell whether the build is stale. */
  inputs: Record<string, string>;
}

export interface IslandAssets {
  /** URL of the module script that hydrates a page's islands, or null when nothing was built. */
  boot: string | null;
  /** URL of the stylesheet pages with islands link, or null when nothing was built. */
  style: string | null;
  islands: Record<string, { preload: string[] }>;
  /** Bundle file name → contents, served with immutable caching. */
  files: Map<string, Uint8Array>;
}

export const NO_ISLAND_ASSETS: IslandAssets = {
  boot: null,
  style: null,
  islands: {},
  files: new Map(),
};

export async function readIslandBuildInfo(file: URL): Promise<IslandBuildInfo | null> {
  try {
    return JSON.parse(await Deno.readTextFile(file));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

/** Load the built bundles into memory; they are small and never change while the server runs. */
export async function loadIslandAssets(buildDir: URL = BUILD_DIR): Promise<IslandAssets> {
  const paths = buildPaths(buildDir);
  const info = await readIslandBuildInfo(paths.info);
  if (!info) return NO_ISLAND_ASSETS;
  const files = new Map<string, Uint8Array>();
  for await (const entry of Deno.readDir(paths.bundles)) {
    if (entry.isFile) {
      files.set(entry.name, await Deno.readFile(new URL(entry.name, paths.bundles)));
    }
  }
  const url = (file: string) => ISLAND_URL_PREFIX + file;
  return {
    boot: url(info.boot),
    style: url(info.style),
    islands: Object.fromEntries(
      Object.entries(info.islands).map((
        [name, { preload }],
      ) => [name, { preload: preload.map(url) }]),
    ),
    files,
  };
}
