/**
 * Mounts the file routes on a Hono app: each route runs its folder middlewares outermost first,
 * then its handler, then (for `page(data)`) its page inside layouts and `_app`. Failures go to
 * the nearest `_error` route; unmatched URLs too, after the middlewares of their folder.
 */
import type { Context as HonoContext, Env, Hono } from "hono";
import {
  type Context,
  type HandlerFn,
  HttpError,
  type IslandModule,
  islandNameOf,
  isPageResponse,
  type Manifest,
  METHODS,
  type Middleware,
  page,
} from "./define.ts";
import { buildRouteTable, type ErrorBoundary, fallbackFor, type Route } from "./routes.ts";
import { renderPage } from "./render.ts";
import { registerIsland } from "./islands.ts";
import type { IslandAssets } from "./assets.ts";

export interface MountOptions<State, E extends Env = Env> {
  manifest: Manifest;
  assets: IslandAssets;
  /** The request's state object, created once per request before any middleware runs. */
  state: (c: HonoContext<E>) => State;
  /** Called for every failure that is answered with a 5xx. */
  onServerError: (error: unknown, ctx: Context<State>) => void;
}

export function mountRoutes<State, E extends Env>(
  app: Hono<E>,
  options: MountOptions<State, E>,
): void {
  const table = buildRouteTable(options.manifest);
  for (const [file, module] of Object.entries(options.manifest.islands)) {
    const component = (module as IslandModule).default;
    if (typeof component !== "function") {
      throw new Error(`${file}: an island must export its component as default`);
    }
    registerIsland(islandNameOf(file), component);
  }
  const failures: FailureHandling = {
    assets: options.assets,
    onServerError: options.onServerError as FailureHandling["onServerError"],
  };

  for (const route of table.routes) {
    app.all(route.pattern, (c) => {
      const ctx = createContext(c, options.state(c));
      return runGuarded(
        ctx,
        route.middlewares,
        () => runRoute(route, ctx, options.assets),
        route.error,
        failures,
      );
    });
  }

  app.notFound((c) => {
    const ctx = createContext(c, options.state(c));
    const scope = fallbackFor(table, ctx.url.pathname);
    return runGuarded(
      ctx,
      scope.middlewares,
      () => {
        throw new HttpError(404);
      },
      scope.error,
      failures,
    );
  });
}

/** The TCP peer's address, from the connection info `Deno.serve` hands to Hono as `env`. */
export function peerAddress<E extends Env>(c: HonoContext<E>): string | null {
  return (c.env as { remoteAddr?: { hostname?: string } } | undefined)?.remoteAddr?.hostname ??
    null;
}

function createContext<E extends Env>(c: HonoContext<E>, state: unknown): Context<unknown> {
  const url = new URL(c.req.url);
  return {
    req: c.req.raw,
    url,
    params: c.req.param() as Record<string, string>,
    state,
    remoteAddr: peerAddress(c),
    next: () => Promise.reject(new HttpError(404)),
    redirect(location, status = 302) {
      return new Response(null, { status, headers: { location: onThisHost(location) } });
    },
  };
}

/**
 * A redirect target as a browser will read it, minus any jump to another host. Browsers drop
 * tabs and newlines and trim spaces and control characters (which a header cannot carry anyway),
 * and take backslashes for slashes; after that, two or more leading slashes name a host, so they
 * fold into one. An absolute URL is the caller's explicit choice and passes unchanged.
 */
function onThisHost(location: string): string {
  const printable = [...location].filter((c) => c >= " " && c !== "\u007f").join("").trim();
  return printable.replace(/^[/\\]{2,}/, "/");
}

/** What failure rendering needs; route modules are opaque here, so state is `unknown`. */
interface FailureHandling {
  assets: IslandAssets;
  onServerError: (error: unknown, ctx: Context<unknown>) => void;
}

/**
 * Run the middlewares outermost first, then `final`. A failure at any depth is rendered right
 * there, so every enclosing middleware still sees (and may decorate) the error response.
 */
function runGuarded(
  ctx: Context<unknown>,
  middlewares: Middleware<unknown>[],
  final: () => Promise<Response> | Response,
  boundary: ErrorBoundary | null,
  failures: FailureHandling,
): Promise<Response> {
  const step = async (i: number): Promise<Response> => {
    try {
      if (i === middlewares.length) return await final();
      return await middlewares[i]({ ...ctx, next: () => step(i + 1) });
    } catch (error) {
      return await renderError(ctx, error, boundary, failures);
    }
  };
  return step(0);
}

async function runRoute(
  route: Route,
  ctx: Context<unknown>,
  assets: IslandAssets,
): Promise<Response> {
  const handler = selectHandler(route, ctx.req.method);
  const result = await handler(ctx);
  if (result instanceof Response) return result;
  if (!isPageResponse(result)) {
    throw new Error(`${route.file}: a handler must return a Response or page(data)`);
  }
  if (!route.module.default) {
    throw new Error(`${route.file}: page(data) returned but no page exported`);
  }
  return renderPage({
    page: route.module.default,
    layouts: route.layouts,
    app: route.app,
    props: { data: result.data, url: ctx.url, params: ctx.params, state: ctx.state },
    status: result.status ?? 200,
    headers: result.headers,
    assets,
  });
}

function selectHandler(route: Route, method: string): HandlerFn<unknown, unknown> {
  const { handler, default: Page } = route.module;
  if (typeof handler === "function") return handler;
  const byMethod = handler ?? (Page ? { GET: () => page() } : {});
  const chosen = byMethod[method as keyof typeof byMethod] ??
    (method === "HEAD" ? byMethod.GET : undefined);
  if (chosen) return chosen;
  const allowed = METHODS.filter((m) => m in byMethod || (m === "HEAD" && "GET" in byMethod));
  throw new HttpError(405, `${method} is not allowed here`, {
    headers: { allow: allowed.join(", ") },
  });
}

async function renderError(
  ctx: Context<unknown>,
  error: unknown,
  boundary: ErrorBoundary | null,
  failures: FailureHandling,
): Promise<Response> {
  const status = error instanceof HttpError ? error.status : 500;
  if (status >= 500) failures.onServerError(error, ctx);
  const extraHeaders = error instanceof HttpError ? error.headers : new Headers();
  try {
    const response = await renderErrorBoundary({ ...ctx, error }, status, boundary, failures);
    extraHeaders.forEach((value, key) => response.headers.set(key, value));
    return response;
  } catch (renderFailure) {
    failures.onServerError(renderFailure, ctx);
    return new Response("Internal Server Error", { status: 500, headers: extraHeaders });
  }
}

async function renderErrorBoundary(
  ctx: Context<unknown>,
  status: number,
  boundary: ErrorBoundary | null,
  failures: FailureHandling,
): Promise<Response> {
  const message = ctx.error instanceof HttpError ? ctx.error.message : "Internal Server Error";
  if (!boundary) return new Response(message, { status });
  const { handler, default: Page } = boundary.module;
  if (typeof handler === "function") {
    const result = await handler(ctx);
    if (result instanceof Response) return result;
  }
  if (!Page) return new Response(message, { status });
  return renderPage({
    page: Page,
    layouts: boundary.layouts,
    app: boundary.app,
    props: {
      data: undefined,
      url: ctx.url,
      params: ctx.params,
      state: ctx.state,
      error: ctx.error,
    },
    status,
    assets: failures.assets,
  });
}
