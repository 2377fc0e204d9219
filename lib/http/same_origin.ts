/**
 * Cross-site request forgery guard for every state-changing request.
 *
 * Hono's `csrf()` only looks at form content types; a cookie-authenticated JSON POST needs the
 * same protection. Browsers send `Origin` (and `Sec-Fetch-Site`) on such requests, so:
 * - an `Origin` or `Sec-Fetch-Site: cross-site` that is not ours is refused, cookies or not;
 * - a request carrying the session cookie must prove it is same-origin;
 * - requests without cookies (Stripe's webhooks, API clients with a bearer token) pass.
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
    const ownOrigins = [siteOrigin, new URL(c.req.url).origin];
    const sameOrigin = origin !== undefined && origin !== "null" && ownOrigins.includes(origin);
    const crossSite = (origin !== undefined && !sameOrigin) || fetchSite === "cross-site" ||
      fetchSite === "same-site";
    const hasSession = cookiePattern.test(c.req.header("cookie") ?? "");
    const proven = sameOrigin || fetchSite === "same-origin";
    if (crossSite || (hasSession && !proven)) {
      return apiError(403, "Cross-site requests are not allowed", "cross_site_request");
    }
    return await next();
  };
}
