/**
 * The HTTP application: site-wide middleware (request id, request log, security headers, static
 * files) in front of the file routes.
 */
import { Hono } from "hono";
import { requestId } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import { bodyLimit } from "hono/body-limit";
import type { Services } from "./services.ts";
import type { State } from "./define.ts";
import type { Manifest } from "./web/define.ts";
import { mountRoutes, peerAddress } from "./web/server.ts";
import { type IslandAssets, NO_ISLAND_ASSETS } from "./web/assets.ts";
import { assetUrl, isStaticPath, serveFiles, type StaticFiles } from "./web/static.ts";
import { apiError } from "./http/api.ts";
import { clientIp } from "./http/client_ip.ts";
import { sameOriginGuard } from "./http/same_origin.ts";
import { SESSION_COOKIE } from "./auth/sessions.ts";
import { WEBHOOK_MAX_BYTES } from "./billing/webhook.ts";
import { WEBHOOK_PATH } from "./stripe/backend.ts";

/** Request bodies larger than this are refused with 413 before they are read in full. */
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
  const limitBody = (maxSize: number) =>
    bodyLimit({
      maxSize,
      onError: () => apiError(413, `Request bodies are limited to ${maxSize} bytes`),
    });
  const defaultLimit = limitBody(MAX_BODY_BYTES);
  const webhookLimit = limitBody(WEBHOOK_MAX_BYTES);
  app.use((c, next) => (c.req.path === WEBHOOK_PATH ? webhookLimit : defaultLimit)(c, next));
  app.use(sameOriginGuard({ siteUrl: services.config.siteUrl, sessionCookie: SESSION_COOKIE }));

  mountRoutes<State, Env>(app, {
    manifest,
    assets,
    state: (c) => {
      const id = c.get("requestId") as string;
      return {
        ...services,
        requestId: id,
        log: services.log.child({ request_id: id }),
        asset: (path: string) => assetUrl(staticFiles, path),
        clientIp: clientIp(c.req.raw, peerAddress(c), services.config.trustedProxies),
        user: null,
        sessionToken: null,
        isAdmin: false,
        pendingReferral: null,
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
