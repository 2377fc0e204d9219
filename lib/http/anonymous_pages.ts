/**
 * Pages that are the same for every anonymous visitor, rendered once per content change and
 * served from memory.
 *
 * A request is anonymous when nothing in it can make the page personal: no session or referral
 * cookie (the header's signed-in state, the payment banner and the invitation banner come only
 * from those), no `Authorization`, and no query string (`?ref=` sets a cookie, `?plan=` picks a
 * plan). Anything else is rendered for the request as usual and marked private, so neither this
 * cache nor a CDN ever hands one person's page to another.
 *
 * Each page names its content version (the prices, for `/pricing`); a copy is reused while the
 * version holds, with a strong ETag from its bytes (so every instance gives the same one) and a
 * `Cache-Control` that lets a shared cache keep it briefly and makes browsers revalidate.
 */
import type { MiddlewareHandler } from "hono";
import { respondWithBytes } from "../web/mod.ts";
import { sha256Hex } from "../crypto.ts";
import { REFERRAL_COOKIE, SESSION_COOKIE } from "./cookies.ts";

/** A page's content version: the same string while its anonymous rendering stays the same. */
export type ContentVersion = () => string | Promise<string>;

/** How long a shared cache (a CDN) may serve a copy without asking again. */
export const SHARED_CACHE_SECONDS = 60;

const PUBLIC = `public, max-age=0, must-revalidate, s-maxage=${SHARED_CACHE_SECONDS}`;
const PRIVATE = "private, no-cache";
const PERSONAL_COOKIE = new RegExp(`(?:^|;\\s*)(?:${SESSION_COOKIE}|${REFERRAL_COOKIE})=`);

interface Rendering {
  version: string;
  body: Uint8Array;
  contentType: string;
  etag: string;
}

export function anonymousPages(pages: Record<string, ContentVersion>): MiddlewareHandler {
  const renderings = new Map<string, Rendering>();
  return async (c, next) => {
    const versionOf = Object.hasOwn(pages, c.req.path) ? pages[c.req.path] : undefined;
    const method = c.req.method;
    if (!versionOf || (method !== "GET" && method !== "HEAD")) return await next();
    if (!isAnonymous(c.req.raw)) {
      await next();
      c.res.headers.set("cache-control", PRIVATE);
      c.res.headers.append("vary", "Cookie");
      return;
    }
    const version = await versionOf();
    let rendering = renderings.get(c.req.path);
    if (rendering?.version !== version) {
      await next();
      // Only a plain page is kept: an error, a redirect or anything setting a cookie is not.
      if (c.res.status !== 200 || c.res.headers.has("set-cookie")) return;
      const body = new Uint8Array(await c.res.arrayBuffer());
      rendering = {
        version,
        body,
        contentType: c.res.headers.get("content-type") ?? "text/html; charset=utf-8",
        etag: `"${(await sha256Hex(body)).slice(0, 32)}"`,
      };
      renderings.set(c.req.path, rendering);
    }
    c.res = respondWithBytes(c.req.raw, rendering.body, {
      "content-type": rendering.contentType,
      "cache-control": PUBLIC,
      vary: "Cookie",
    }, rendering.etag);
  };
}

function isAnonymous(req: Request): boolean {
  return !req.url.includes("?") && !req.headers.has("authorization") &&
    !PERSONAL_COOKIE.test(req.headers.get("cookie") ?? "");
}
