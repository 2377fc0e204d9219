/**
 * Static files from `static/` and the island bundles (scripts and the wrapper's stylesheet),
 * served from memory.
 *
 * The files are read once at start-up (they are few and small), each with a content-hash ETag.
 * `asset("/styles.css")` appends that hash as `?v=…`; a request carrying the current hash may be
 * cached forever, any other gets `no-cache` and revalidates with its ETag. Island bundles have
 * hashed names and are always immutable.
 */
import type { MiddlewareHandler } from "hono";
import { getMimeType } from "hono/utils/mime";
import { sha256Hex } from "../crypto.ts";
import { ISLAND_URL_PREFIX, type IslandAssets } from "./assets.ts";

export const STATIC_DIR = new URL("../../static/", import.meta.url);
const IMMUTABLE = "public, max-age=31536000, immutable";

interface StaticFile {
  body: Uint8Array;
  etag: string;
  hash: string;
  type: string;
}

export type StaticFiles = Map<string, StaticFile>;

export async function loadStaticFiles(dir: URL = STATIC_DIR): Promise<StaticFiles> {
  const files: StaticFiles = new Map();
  const walk = async (folder: URL, prefix: string) => {
    for await (const entry of Deno.readDir(folder)) {
      if (entry.name.startsWith(".")) continue;
      if (entry.isDirectory) {
        await walk(new URL(`${entry.name}/`, folder), `${prefix}${entry.name}/`);
      } else if (entry.isFile) {
        files.set(`${prefix}${entry.name}`, await describe(new URL(entry.name, folder)));
      }
    }
  };
  await walk(dir, "/");
  return files;
}

async function describe(file: URL): Promise<StaticFile> {
  const body = await Deno.readFile(file);
  const hash = (await sha256Hex(body)).slice(0, 16);
  return {
    body,
    hash,
    etag: `"${hash}"`,
    type: getMimeType(file.pathname) ?? "application/octet-stream",
  };
}

/** URL of a static file with its content hash, for links that may be cached forever. */
export function assetUrl(files: StaticFiles, path: string): string {
  const file = files.get(path);
  if (!file) throw new Error(`asset ${path} does not exist in static/`);
  return `${path}?v=${file.hash}`;
}

/** Answers GET/HEAD for static files and island bundles; everything else passes through. */
export function serveFiles(files: StaticFiles, islands: IslandAssets): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.method !== "GET" && c.req.method !== "HEAD") return await next();
    const path = c.req.path;
    if (path.startsWith(ISLAND_URL_PREFIX)) {
      const name = path.slice(ISLAND_URL_PREFIX.length);
      const bundle = islands.files.get(name);
      if (!bundle) return c.text("Not found", 404);
      const type = name.endsWith(".css")
        ? "text/css; charset=utf-8"
        : "text/javascript; charset=utf-8";
      return respondWithBytes(c.req.raw, bundle, {
        "content-type": type,
        "cache-control": IMMUTABLE,
      });
    }
    const file = files.get(path);
    if (!file) return await next();
    const cacheControl = c.req.query("v") === file.hash ? IMMUTABLE : "public, no-cache";
    return respondWithBytes(
      c.req.raw,
      file.body,
      { "content-type": file.type, "cache-control": cacheControl },
      file.etag,
    );
  };
}

export function isStaticPath(files: StaticFiles, path: string): boolean {
  return path.startsWith(ISLAND_URL_PREFIX) || files.has(path);
}

/**
 * Bytes held in memory as a response: 304 when the request's `If-None-Match` names `etag`
 * (a list, `W/` forms and `*` included, compared weakly as RFC 9110 says), no body for HEAD.
 */
export function respondWithBytes(
  req: Request,
  body: Uint8Array,
  init: HeadersInit,
  etag: string | null = null,
): Response {
  const headers = new Headers(init);
  if (etag) {
    headers.set("etag", etag);
    if (matchesEtag(req.headers.get("if-none-match"), etag)) {
      return new Response(null, { status: 304, headers });
    }
  }
  headers.set("content-length", String(body.byteLength));
  return new Response(req.method === "HEAD" ? null : body as Uint8Array<ArrayBuffer>, { headers });
}

function matchesEtag(ifNoneMatch: string | null, etag: string): boolean {
  if (!ifNoneMatch) return false;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, "");
  return ifNoneMatch.split(",").some((tag) => tag.trim() === "*" || opaque(tag) === opaque(etag));
}
