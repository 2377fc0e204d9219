/**
 * The web runtime: file routes, pages, layouts, `<Head>` and islands with Fresh 2's shapes, on
 * Hono. This module is its public surface — route files, the app's assembly and tests import
 * from here only. (The bundler half, `build.ts`, is development-only and imported on its own.)
 *
 * What it does not do of Fresh 2 (see the README): partials and client-side navigation, the
 * `App` builder API, `ctx.render()`, `define.page` props beyond those listed in `PageProps`,
 * static pre-rendering and island props that are not JSON (signals, JSX, dates).
 */
export {
  type Context,
  createDefine,
  HttpError,
  type Manifest,
  type Method,
  type Middleware,
  page,
  type PageComponent,
  type PageProps,
  type RouteConfig,
  type RouteHandler,
} from "./context.ts";
export { Head } from "./head.ts";
export { type MountOptions, mountRoutes, peerAddress } from "./server.ts";
export { type IslandAssets, loadIslandAssets, NO_ISLAND_ASSETS } from "./assets.ts";
export {
  assetUrl,
  isStaticPath,
  loadStaticFiles,
  respondWithBytes,
  serveFiles,
  type StaticFiles,
} from "./static.ts";
