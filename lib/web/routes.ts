/**
 * File routes → a route table. Pure functions over the manifest's keys, so the rules are easy to
 * test: `routes/blog/[slug].tsx` serves `/blog/:slug`, `(group)` folders add no URL segment,
 * `index` is the folder itself, `[...rest]` matches the remainder of the path, and `_app`,
 * `_layout`, `_middleware` and `_error` apply to their folder and everything below it. A route's
 * `config.routeOverride` replaces the path its file name gives.
 */
import {
  type Manifest,
  METHODS,
  type Middleware,
  type MiddlewareModule,
  type PageComponent,
  type RouteModule,
} from "./context.ts";

type AnyPage = PageComponent<unknown, unknown>;

export interface Route {
  file: string;
  /** Hono path pattern. */
  pattern: string;
  module: RouteModule;
  middlewares: Middleware<unknown>[];
  layouts: AnyPage[];
  app: AnyPage | null;
  error: ErrorBoundary | null;
}

/** The `_error` module that handles failures below its folder. */
export interface ErrorBoundary {
  file: string;
  module: RouteModule;
  layouts: AnyPage[];
  app: AnyPage | null;
}

/** Middlewares and error page for requests that match no route, by URL prefix. */
export interface FallbackScope {
  urlPrefix: string;
  middlewares: Middleware<unknown>[];
  error: ErrorBoundary | null;
}

export interface RouteTable {
  routes: Route[];
  fallbacks: FallbackScope[];
}

const SPECIAL = new Set(["_app", "_layout", "_middleware", "_error"]);

export class RouteDefinitionError extends Error {
  override name = "RouteDefinitionError";
}

export function buildRouteTable(manifest: Manifest): RouteTable {
  const folders = new Map<string, FolderSpecials>();
  const routeFiles: { file: string; folder: string; segments: string[] }[] = [];

  for (const file of Object.keys(manifest.routes)) {
    const relative = file.replace(/^\.\/routes\//, "").replace(/\.(tsx|ts|jsx|js)$/, "");
    const parts = relative.split("/");
    const base = parts.pop()!;
    const folder = parts.join("/");
    if (SPECIAL.has(base)) {
      const specials = folders.get(folder) ?? {};
      specials[base as keyof FolderSpecials] = file;
      folders.set(folder, specials);
    } else if (base.startsWith("_")) {
      throw new RouteDefinitionError(`${file}: unknown special file "${base}"`);
    } else {
      routeFiles.push({ file, folder, segments: base === "index" ? parts : [...parts, base] });
    }
  }

  const chain = (folder: string) => ancestors(folder).map((f) => folders.get(f) ?? {});
  const middlewaresFor = (folder: string) =>
    chain(folder).flatMap((s) =>
      s._middleware ? toArray(middlewareOf(manifest, s._middleware)) : []
    );
  const layoutsFor = (folder: string) =>
    chain(folder).flatMap((s) => s._layout ? [pageOf(manifest, s._layout)] : []);
  const app = folders.get("")?._app ? pageOf(manifest, folders.get("")!._app!) : null;
  const errorFor = (folder: string): ErrorBoundary | null => {
    const owners = ancestors(folder).filter((f) => folders.get(f)?._error);
    const owner = owners.at(-1);
    if (owner === undefined) return null;
    const file = folders.get(owner)!._error!;
    return { file, module: routeModuleOf(manifest, file), layouts: layoutsFor(owner), app };
  };

  const routes = routeFiles.map(({ file, folder, segments }): Route => {
    const module = routeModuleOf(manifest, file);
    return {
      file,
      pattern: module.config?.routeOverride ?? toPattern(file, segments),
      module,
      middlewares: middlewaresFor(folder),
      layouts: layoutsFor(folder),
      app,
      error: errorFor(folder),
    };
  });
  routes.sort((a, b) => compareSpecificity(a.pattern, b.pattern));
  for (let i = 1; i < routes.length; i++) {
    if (routes[i].pattern === routes[i - 1].pattern) {
      throw new RouteDefinitionError(
        `${routes[i - 1].file} and ${routes[i].file} both serve ${routes[i].pattern}`,
      );
    }
  }

  // Unmatched URLs get the middlewares and error page of the deepest folder that has a URL of its
  // own (no groups or params on the way), e.g. `/api/nope` → `routes/api/_error.ts`.
  const fallbacks = [...folders.keys()]
    .filter((folder) => folder.split("/").every((part) => part === "" || isPlainSegment(part)))
    .map((folder): FallbackScope => ({
      urlPrefix: folder === "" ? "/" : `/${folder}/`,
      middlewares: middlewaresFor(folder),
      error: errorFor(folder),
    }))
    .sort((a, b) => b.urlPrefix.length - a.urlPrefix.length);

  return { routes, fallbacks };
}

export function fallbackFor(table: RouteTable, path: string): FallbackScope {
  const withSlash = path.endsWith("/") ? path : `${path}/`;
  return table.fallbacks.find((scope) => withSlash.startsWith(scope.urlPrefix)) ??
    { urlPrefix: "/", middlewares: [], error: null };
}

type FolderSpecials = Partial<Record<"_app" | "_layout" | "_middleware" | "_error", string>>;

/** "" then "a" then "a/b" for folder "a/b": outermost first. */
function ancestors(folder: string): string[] {
  const parts = folder ? folder.split("/") : [];
  return ["", ...parts.map((_, i) => parts.slice(0, i + 1).join("/"))];
}

function isPlainSegment(part: string): boolean {
  return !/^\(.*\)$/.test(part) && !/^\[.*\]$/.test(part);
}

function toPattern(file: string, segments: string[]): string {
  const out: string[] = [];
  segments.forEach((segment, i) => {
    if (/^\(.+\)$/.test(segment)) return;
    const rest = /^\[\.\.\.([A-Za-z_]\w*)\]$/.exec(segment);
    if (rest) {
      if (i !== segments.length - 1) {
        throw new RouteDefinitionError(`${file}: [...${rest[1]}] must be the last segment`);
      }
      out.push(`:${rest[1]}{.+}`);
      return;
    }
    const param = /^\[([A-Za-z_]\w*)\]$/.exec(segment);
    if (param) out.push(`:${param[1]}`);
    else if (/^[\w.~-]+$/.test(segment)) out.push(segment);
    else throw new RouteDefinitionError(`${file}: "${segment}" is not a valid route segment`);
  });
  return `/${out.join("/")}`;
}

/** Static segments before parameters before catch-alls, so `/blog/new` wins over `/blog/:slug`. */
function compareSpecificity(a: string, b: string): number {
  const rank = (segment: string | undefined) =>
    segment === undefined ? -1 : segment.endsWith("{.+}") ? 2 : segment.startsWith(":") ? 1 : 0;
  const as = a.split("/").slice(1);
  const bs = b.split("/").slice(1);
  for (let i = 0; i < Math.max(as.length, bs.length); i++) {
    const diff = rank(as[i]) - rank(bs[i]);
    if (diff !== 0) return diff;
    if (as[i] !== bs[i] && rank(as[i]) === 0) return as[i] < bs[i] ? -1 : 1;
  }
  return 0;
}

function toArray<T>(value: T | T[]): T[] {
  return Array.isArray(value) ? value : [value];
}

function middlewareOf(manifest: Manifest, file: string) {
  const handler = (manifest.routes[file] as MiddlewareModule).handler;
  if (typeof handler !== "function" && !Array.isArray(handler)) {
    throw new RouteDefinitionError(`${file} must export a middleware \`handler\``);
  }
  return handler;
}

function routeModuleOf(manifest: Manifest, file: string): RouteModule {
  const module = manifest.routes[file] as RouteModule;
  const { handler, default: component, config } = module;
  if (config?.routeOverride !== undefined && !/^\/[\w.~\/:-]*$/.test(config.routeOverride)) {
    throw new RouteDefinitionError(`${file}: config.routeOverride must be a path such as /a/b`);
  }
  if (
    config?.maxBodyBytes !== undefined &&
    !(Number.isInteger(config.maxBodyBytes) && config.maxBodyBytes > 0)
  ) {
    throw new RouteDefinitionError(`${file}: config.maxBodyBytes must be a positive integer`);
  }
  if (component !== undefined && typeof component !== "function") {
    throw new RouteDefinitionError(`${file}: the default export must be a page component`);
  }
  if (handler === undefined) {
    if (!component) throw new RouteDefinitionError(`${file} exports neither handler nor a page`);
  } else if (typeof handler !== "function") {
    for (const [method, fn] of Object.entries(handler)) {
      if (!(METHODS as readonly string[]).includes(method) || typeof fn !== "function") {
        throw new RouteDefinitionError(
          `${file}: handler.${method} must be a function named after an HTTP method`,
        );
      }
    }
  }
  return module;
}

function pageOf(manifest: Manifest, file: string): AnyPage {
  const component = (manifest.routes[file] as RouteModule).default;
  if (typeof component !== "function") {
    throw new RouteDefinitionError(`${file} must export a default component`);
  }
  return component;
}
