/**
 * The shapes route files are written against, after Fresh 2: a route module exports `handler`
 * (one function, or one per HTTP method), a default page component and optionally `config`;
 * `_middleware` files export `handler` functions that call `ctx.next()`; handlers answer with a
 * `Response` or with `page(data)`, and the page receives `{ data, req, url, params, state, … }`.
 */
import type { ComponentType, VNode } from "preact";

export const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;
export type Method = typeof METHODS[number];

/**
 * One object per request, passed through every middleware to the handler and the page: a
 * middleware that replaces `ctx.req` or adds to `ctx.state` is seen by everything after it.
 */
export interface Context<State> {
  req: Request;
  url: URL;
  params: Record<string, string>;
  /** Per-request state, shared by middlewares, handlers and pages. */
  state: State;
  /** The connection: `info.remoteAddr` is the TCP peer (never proxy headers). */
  info: Deno.ServeHandlerInfo;
  /** The pattern of the route that matched (`/blog/:slug`), or null when none did. */
  route: string | null;
  /** The failure being rendered, inside an `_error` route. */
  error?: unknown;
  /** Continue with the next middleware, then the route itself. */
  next(): Promise<Response>;
  /**
   * Redirect (302 by default). A location that a browser would read as another host (`//host`,
   * `/\host`, `/<tab>/host`, …) is treated as a local path instead. Absolute URLs pass as they
   * are: never build one from request input.
   */
  redirect(location: string, status?: 301 | 302 | 303 | 307 | 308): Response;
}

const PAGE = Symbol("page");

export interface PageResponse<Data> {
  [PAGE]: true;
  data: Data;
  status?: number;
  headers?: HeadersInit;
}

/** Ask for the route's page to be rendered with `data`. */
export function page<Data = undefined>(
  data?: Data,
  init: { status?: number; headers?: HeadersInit } = {},
): PageResponse<Data> {
  return { [PAGE]: true, data: data as Data, ...init };
}

export function isPageResponse(value: unknown): value is PageResponse<unknown> {
  return typeof value === "object" && value !== null && PAGE in value;
}

/**
 * Thrown from a handler or middleware to answer with the nearest `_error` route, with `status`.
 * Subclass it to carry more (an API's machine-readable error code, say).
 */
export class HttpError extends Error {
  /** Headers the error's answer carries, whichever `_error` renders it (e.g. `Retry-After`). */
  readonly headers: Headers;
  constructor(
    readonly status: number,
    message?: string,
    options?: ErrorOptions & { headers?: HeadersInit },
  ) {
    super(message ?? defaultMessage(status), options);
    this.name = this.constructor.name;
    this.headers = new Headers(options?.headers);
  }
}

function defaultMessage(status: number): string {
  switch (status) {
    case 400:
      return "Bad request";
    case 401:
      return "Sign in to continue";
    case 403:
      return "Forbidden";
    case 404:
      return "Page not found";
    case 405:
      return "Method not allowed";
    default:
      return status >= 500 ? "Something went wrong on our side" : "Request failed";
  }
}

type MaybePromise<T> = T | Promise<T>;

export type HandlerFn<Data, State> = (
  ctx: Context<State>,
) => MaybePromise<Response | PageResponse<Data>>;
export type HandlerByMethod<Data, State> = { [M in Method]?: HandlerFn<Data, State> };
export type RouteHandler<Data, State> = HandlerFn<Data, State> | HandlerByMethod<Data, State>;
export type Middleware<State> = (ctx: Context<State>) => MaybePromise<Response>;

/** What a page, layout or `_app` is rendered with: the request's context, and its data. */
export type PageProps<Data = undefined, State = unknown> =
  & Pick<Context<State>, "req" | "url" | "params" | "state" | "info" | "route" | "error">
  & {
    data: Data;
    /** The wrapped page, for `_app` and `_layout`. */
    Component: ComponentType<Record<string, never>>;
  };

/** Pages, layouts and `_app` may be async: the runtime awaits them before rendering. */
export type PageComponent<Data, State> = (
  props: PageProps<Data, State>,
) => VNode | null | Promise<VNode | null>;

/**
 * A route's own settings. `routeOverride` serves the route at a fixed path whatever its file is
 * called (for URLs others are configured with, such as a webhook's); `maxBodyBytes` raises or
 * lowers the request-body limit for this route alone.
 */
export interface RouteConfig {
  routeOverride?: string;
  maxBodyBytes?: number;
}

/** The data a handler hands to its page: whatever its `page(data)` calls carry. */
type PageDataOfFn<F> = F extends (...args: never[]) => infer R
  ? Awaited<R> extends infer A ? A extends PageResponse<infer D> ? D : never : never
  : never;
export type DataOf<H> = H extends (...args: never[]) => unknown ? PageDataOfFn<H>
  : { [M in keyof H]-?: PageDataOfFn<NonNullable<H[M]>> }[keyof H];

/** Typed identity helpers, bound to the app's `State` once (`createDefine<State>()`). */
export function createDefine<State>() {
  return {
    handlers<H extends RouteHandler<unknown, State>>(handlers: H): H {
      return handlers;
    },
    /** `define.page<typeof handler>(Page)` types `data` from what the handler returns. */
    page<H = undefined>(
      component: PageComponent<H extends undefined ? undefined : DataOf<H>, State>,
    ) {
      return component;
    },
    /** A `_layout` or `_app`: it renders `<Component />` where the page goes. */
    layout(component: PageComponent<unknown, State>) {
      return component;
    },
    middleware(middleware: Middleware<State> | Middleware<State>[]) {
      return middleware;
    },
  };
}

export interface RouteModule {
  handler?: RouteHandler<unknown, unknown>;
  default?: PageComponent<unknown, unknown>;
  config?: RouteConfig;
}
export interface MiddlewareModule {
  handler: Middleware<unknown> | Middleware<unknown>[];
}
export interface IslandModule {
  default: ComponentType<Record<string, unknown>>;
}

/**
 * Every route and island module of the site, keyed by path (`./routes/x.tsx`, `./islands/Y.tsx`).
 * Modules are opaque here (each is typed against its app's State by `define`); the router checks
 * their shape when it builds the route table.
 */
export interface Manifest {
  routes: Record<string, object>;
  islands: Record<string, object>;
}

/** An island's name is its file's base name: `./islands/ReferralCalculator.tsx` → `ReferralCalculator`. */
export function islandNameOf(file: string): string {
  return file.replace(/^.*\//, "").replace(/\.(tsx|jsx|ts|js)$/, "");
}
