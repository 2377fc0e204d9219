/**
 * The app's request state and its `define` helpers: what every route, middleware and page of
 * this site can rely on finding in `ctx.state`.
 */
import { createDefine } from "./web/mod.ts";
import type { Services } from "./services.ts";
import type { Logger } from "./log.ts";
import type { User } from "./auth/users.ts";

export interface State extends Services {
  requestId: string;
  /** The request-scoped logger: every line carries the request id. */
  log: Logger;
  /** URL of a file in `static/`, with its content hash for long-lived caching. */
  asset(path: string): string;
  /** The client's address (see `lib/http/client_ip.ts`). */
  clientIp: string;
  /** The signed-in person, if any. */
  user: User | null;
  /** The raw session token from the cookie, when one was sent. */
  sessionToken: string | null;
  /** Authenticated with the admin token (no user row). */
  isAdmin: boolean;
  /** A referral code this visitor arrived with and has not used yet (drives the banner). */
  pendingReferral: string | null;
  /** The nonce this browser got when it last asked for a sign-in link (see `lib/auth/sign_in.ts`). */
  signInNonce: string | null;
}

export const define = createDefine<State>();
