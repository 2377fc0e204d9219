/**
 * The app's request state and its `define` helpers: what every route, middleware and page of
 * this site can rely on finding in `ctx.state`.
 */
import { createDefine } from "./web/define.ts";
import type { Services } from "./services.ts";
import type { Logger } from "./log.ts";

export interface State extends Services {
  requestId: string;
  /** The request-scoped logger: every line carries the request id. */
  log: Logger;
  /** URL of a file in `static/`, with its content hash for long-lived caching. */
  asset(path: string): string;
}

export const define = createDefine<State>();
