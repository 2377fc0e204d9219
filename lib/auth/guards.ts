/** Access rules for routes. Pages send visitors to sign in; API routes answer 401 JSON. */
import type { Context } from "../web/define.ts";
import { HttpError } from "../web/define.ts";
import { define, type State } from "../define.ts";
import type { User } from "./users.ts";

export type Principal = { kind: "user"; user: User } | { kind: "admin" };

/** For API routes: the signed-in person or the operator, else 401. */
export function requireApiPrincipal(ctx: Context<State>): Principal {
  if (ctx.state.isAdmin) return { kind: "admin" };
  if (ctx.state.user) return { kind: "user", user: ctx.state.user };
  throw new HttpError(401, "Sign in to continue");
}

/** For operator-only routes: the admin bearer token, else 401. */
export function requireAdmin(ctx: Context<State>): void {
  if (!ctx.state.isAdmin) throw new HttpError(401, "This needs the admin token");
}

/** Middleware for pages that need a signed-in person: others go to sign in, then come back. */
export const requireSignedInPage = define.middleware((ctx) => {
  if (ctx.state.user) return ctx.next();
  const back = `${ctx.url.pathname}${ctx.url.search}`;
  return ctx.redirect(`/login?next=${encodeURIComponent(back)}`, 303);
});
