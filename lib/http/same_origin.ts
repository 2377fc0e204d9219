/**
 * Cross-site request forgery guard for every state-changing request.
 *
 * Hono's `csrf()` only looks at form content types; a cookie-authenticated JSON POST needs the
 * same protection. Browsers say where a request comes from (`Sec-Fetch-Site`, which pages cannot
 * forge, and `Origin`), so:
 * - a request a browser marks cross-site or same-site, or whose `Origin` is not ours (`null`
 *   included) without `Sec-Fetch-Site: same-origin`, is refused, cookies or not;
 * - a request carrying the session cookie must prove it is same-origin (`Sec-Fetch-Site:
 *   same-origin` or our own `Origin`);
 * - requests without cookies and without browser markings (Stripe's webhooks, API clients with a
 *   bearer token) pass.
 */
import type { MiddlewareHandler } from "hono";
import { apiError } from "./api.ts";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export function sameOriginGuard(
  options: { siteUrl: string; sessionCookie: string },
): MiddlewareHandler {
  const siteOrigin = new URL(options.siteUrl).origin;
  const cookiePattern = new RegExp(`(?:^|;\\s*)${options.sessionCookie}=`);
  return async (c, next) => {
    if (SAFE_METHODS.has(c.req.method)) return await next();
    const origin = c.req.header("origin");
    const fetchSite = c.req.header("sec-fetch-site");
    const ownOrigin = origin !== undefined &&
      [siteOrigin, new URL(c.req.url).origin].includes(origin);
    const proven = ownOrigin || fetchSite === "same-origin";
    // An origin that is not ours — including "null", which a sandboxed frame on any site can
    // send — is foreign unless the browser itself vouches that the request is same-origin.
    const foreignOrigin = origin !== undefined && !proven;
    const crossSite = foreignOrigin || fetchSite === "cross-site" || fetchSite === "same-site";
    const hasSession = cookiePattern.test(c.req.header("cookie") ?? "");
    if (crossSite || (hasSession && !proven)) {
      return apiError(403, "Cross-site requests are not allowed", "cross_site_request");
    }
    return await next();
  };
}
