/**
 * Mounts the file routes on a Hono app: each route runs its folder middlewares outermost first,
 * then its handler, then (for `page(data)`) its page inside layouts and `_app`. Failures go to
 * the nearest `_error` route; unmatched URLs too, after the middlewares of their folder.
 */
import type { Context as HonoContext, Env, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
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
} from "./context.ts";
import { buildRouteTable, type ErrorBoundary, fallbackFor, type Route } from "./routes.ts";
import { renderPage } from "./render.ts";
import { registerIsland } from "./islands.ts";
import type { IslandAssets } from "./assets.ts";
import { withoutControlCharacters } from "../text.ts";

export interface MountOptions<State, E extends Env = Env> {
  manifest: Manifest;
  assets: IslandAssets;
  /** The request's state object, created once per request before any middleware runs. */
  state: (c: HonoContext<E>) => State;
  /** Called for every failure that is answered with a 5xx. */
  onServerError: (error: unknown, ctx: Context<State>) => void;
  /**
   * Turn the app's own errors into `HttpError`s before they are rendered (a domain's "not
   * found" into a 404, say); anything it returns unchanged is a 500.
   */
  translateError?: (error: unknown) => unknown;
  /**
   * Request bodies larger than this are refused before they are read in full, unless a route's
   * `config.maxBodyBytes` says otherwise; `bodyTooLarge` gives the answer.
   */
  body?: { maxBytes: number; tooLarge: (maxBytes: number) => Response };
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
    translateError: options.translateError ?? ((error) => error),
  };

  for (const route of table.routes) {
    const maxBytes = route.module.config?.maxBodyBytes ?? options.body?.maxBytes;
    if (maxBytes !== undefined) {
      const tooLarge = options.body?.tooLarge ?? (() => new Response(null, { status: 413 }));
      app.all(route.pattern, bodyLimit({ maxSize: maxBytes, onError: () => tooLarge(maxBytes) }));
    }
    app.all(route.pattern, (c) => {
      const ctx = createContext(c, options.state(c), route.pattern);
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
    const ctx = createContext(c, options.state(c), null);
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

const NO_CONNECTION: Deno.ServeHandlerInfo = {
  remoteAddr: { transport: "tcp", hostname: "", port: 0 },
  completed: Promise.resolve(),
};

/** The connection info `Deno.serve` hands to Hono as `env` (absent in in-process requests). */
function connectionInfoOf(env: unknown): Deno.ServeHandlerInfo {
  const info = env as Partial<Deno.ServeHandlerInfo> | undefined;
  return info?.remoteAddr ? { ...NO_CONNECTION, ...info } as Deno.ServeHandlerInfo : NO_CONNECTION;
}

/**
 * The TCP peer's address from the connection info `Deno.serve` hands to Hono as `env`, or null
 * when the request did not come over a connection.
 */
export function peerAddress(env: unknown): string | null {
  return (connectionInfoOf(env).remoteAddr as Deno.NetAddr).hostname || null;
}

function createContext<E extends Env>(
  c: HonoContext<E>,
  state: unknown,
  route: string | null,
): Context<unknown> {
  return {
    req: c.req.raw,
    url: new URL(c.req.url),
    params: c.req.param() as Record<string, string>,
    state,
    info: connectionInfoOf(c.env),
    route,
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
  const printable = withoutControlCharacters(location).trim();
  return printable.replace(/^[/\\]{2,}/, "/");
}

/** What failure rendering needs; route modules are opaque here, so state is `unknown`. */
interface FailureHandling {
  assets: IslandAssets;
  onServerError: (error: unknown, ctx: Context<unknown>) => void;
  translateError: (error: unknown) => unknown;
}

/**
 * Run the middlewares outermost first, then `final`, passing the one `ctx` along. A failure at
 * any depth is rendered right there, so every enclosing middleware still sees (and may decorate)
 * the error response.
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
      ctx.next = () => step(i + 1);
      return await middlewares[i](ctx);
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
  return await renderPage({
    page: route.module.default,
    layouts: route.layouts,
    app: route.app,
    props: pageProps(ctx, result.data),
    status: result.status ?? 200,
    headers: result.headers,
    assets,
  });
}

function pageProps(ctx: Context<unknown>, data: unknown) {
  const { req, url, params, state, info, route, error } = ctx;
  return { data, req, url, params, state, info, route, error };
}

/** A 405: the methods the route does answer travel with it into the `Allow` header. */
class MethodNotAllowed extends HttpError {
  constructor(method: string, readonly allowed: string[]) {
    super(405, `${method} is not allowed here`);
  }
}

function selectHandler(route: Route, method: string): HandlerFn<unknown, unknown> {
  const { handler, default: Page } = route.module;
  if (typeof handler === "function") return handler;
  const byMethod = handler ?? (Page ? { GET: () => page() } : {});
  const chosen = byMethod[method as keyof typeof byMethod] ??
    (method === "HEAD" ? byMethod.GET : undefined);
  if (chosen) return chosen;
  const allowed = METHODS.filter((m) => m in byMethod || (m === "HEAD" && "GET" in byMethod));
  // As Fresh does: a route without its own OPTIONS handler says which methods it answers.
  if (method === "OPTIONS") {
    return () => new Response(null, { status: 204, headers: { allow: allowed.join(", ") } });
  }
  throw new MethodNotAllowed(method, allowed);
}

async function renderError(
  ctx: Context<unknown>,
  thrown: unknown,
  boundary: ErrorBoundary | null,
  failures: FailureHandling,
): Promise<Response> {
  const error = failures.translateError(thrown);
  const status = error instanceof HttpError ? error.status : 500;
  if (status >= 500) failures.onServerError(error, ctx);
  const allow = error instanceof MethodNotAllowed ? error.allowed.join(", ") : null;
  try {
    ctx.error = error;
    const response = await renderErrorBoundary(ctx, status, boundary, failures);
    if (allow) response.headers.set("allow", allow);
    if (error instanceof HttpError) {
      for (const [name, value] of error.headers) {
        if (!response.headers.has(name)) response.headers.set(name, value);
      }
    }
    return response;
  } catch (renderFailure) {
    failures.onServerError(renderFailure, ctx);
    return new Response("Internal Server Error", {
      status: 500,
      headers: allow ? { allow } : {},
    });
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
  return await renderPage({
    page: Page,
    layouts: boundary.layouts,
    app: boundary.app,
    props: pageProps(ctx, undefined),
    status,
    assets: failures.assets,
  });
}
