/**
 * The HTTP application: site-wide middleware (request id, request log, security headers, static
 * files) in front of the file routes.
 */
import { Hono } from "hono";
import { requestId } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import type { Services } from "./services.ts";
import type { State } from "./state.ts";
import {
  assetUrl,
  type IslandAssets,
  isStaticPath,
  type Manifest,
  mountRoutes,
  NO_ISLAND_ASSETS,
  peerAddress,
  serveFiles,
  type StaticFiles,
} from "./web/mod.ts";
import { apiError } from "./http/api.ts";
import { toHttpError } from "./http/errors.ts";
import { clientIp } from "./http/client_ip.ts";
import { sameOriginGuard } from "./http/same_origin.ts";
import { SESSION_COOKIE } from "./http/cookies.ts";
import { anonymousPages } from "./http/anonymous_pages.ts";
import { pricesVersion } from "./billing/prices.ts";

/**
 * Request bodies larger than this are refused with 413 before they are read in full (a route's
 * `config.maxBodyBytes` may say otherwise).
 */
export const MAX_BODY_BYTES = 64 * 1024;

export interface AppParts {
  manifest: Manifest;
  staticFiles: StaticFiles;
  assets?: IslandAssets;
}

type Env = { Variables: { requestId: string } };

export function createApp(services: Services, parts: AppParts): Hono<Env> {
  const { manifest, staticFiles } = parts;
  const assets = parts.assets ?? NO_ISLAND_ASSETS;
  const app = new Hono<Env>();

  app.use(requestId({ headerName: "" }));
  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    // Set after the route: a handler's own Response would not carry headers set before it.
    c.res.headers.set("x-request-id", c.get("requestId"));
    if (isStaticPath(staticFiles, c.req.path)) return;
    services.log.info("http.request", {
      request_id: c.get("requestId"),
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      duration_ms: Math.round((performance.now() - started) * 10) / 10,
    });
  });
  app.use(secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", "data:"],
      connectSrc: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
      objectSrc: ["'none'"],
    },
    xFrameOptions: "DENY",
    // Not "no-referrer": with it, browsers send `Origin: null` on the site's own form posts,
    // which the same-origin guard must then refuse. Other sites still learn nothing.
    referrerPolicy: "same-origin",
    strictTransportSecurity: services.config.appEnv === "production"
      ? "max-age=63072000; includeSubDomains"
      : false,
  }));
  app.use(serveFiles(staticFiles, assets));
  app.use(sameOriginGuard({ siteUrl: services.config.siteUrl, sessionCookie: SESSION_COOKIE }));
  // The pages below change only with a deploy (their assets are content-hashed) or the prices.
  app.use(anonymousPages({
    "/": () => "",
    "/referrals": () => "",
    "/pricing": () => pricesVersion(services),
  }));

  mountRoutes<State, Env>(app, {
    manifest,
    assets,
    body: {
      maxBytes: MAX_BODY_BYTES,
      tooLarge: (maxBytes) => apiError(413, `Request bodies are limited to ${maxBytes} bytes`),
    },
    translateError: toHttpError,
    state: (c) => {
      const id = c.get("requestId") as string;
      return {
        ...services,
        requestId: id,
        log: services.log.child({ request_id: id }),
        asset: (path: string) => assetUrl(staticFiles, path),
        clientIp: clientIp(c.req.raw, peerAddress(c.env), services.config.trustedProxies),
        user: null,
        sessionToken: null,
        isAdmin: false,
        pendingReferral: null,
        signInNonce: null,
      };
    },
    onServerError: (error, ctx) => {
      ctx.state.log.error("http.server_error", {
        method: ctx.req.method,
        path: ctx.url.pathname,
        error,
      });
    },
  });
  return app;
}
