/** Access rules for routes. Pages send visitors to sign in; API routes answer 401 JSON. */
import type { Context } from "../web/mod.ts";
import { define, type State } from "../state.ts";
import type { User } from "../auth/users.ts";
import { ApiError } from "./errors.ts";

export type Principal = { kind: "user"; user: User } | { kind: "admin" };

/** For API routes: the signed-in person or the operator, else 401. */
export function requireApiPrincipal(ctx: Context<State>): Principal {
  if (ctx.state.isAdmin) return { kind: "admin" };
  if (ctx.state.user) return { kind: "user", user: ctx.state.user };
  throw new ApiError(401, "Sign in to continue");
}

/**
 * For API routes that act as a person (buying, managing billing): the signed-in person, else
 * 401. The admin token has no user row, so it is refused with `forAdmin` (400).
 */
export function requirePerson(
  ctx: Context<State>,
  forAdmin: { code: string; message: string },
): User {
  const principal = requireApiPrincipal(ctx);
  if (principal.kind === "admin") throw new ApiError(400, forAdmin.message, forAdmin.code);
  return principal.user;
}

/** For operator-only routes: the admin bearer token, else 401. */
export function requireAdmin(ctx: Context<State>): void {
  if (!ctx.state.isAdmin) throw new ApiError(401, "This needs the admin token");
}

/** Middleware for pages that need a signed-in person: others go to sign in, then come back. */
export const requireSignedInPage = define.middleware((ctx) => {
  if (ctx.state.user) return ctx.next();
  const back = `${ctx.url.pathname}${ctx.url.search}`;
  return ctx.redirect(`/login?next=${encodeURIComponent(back)}`, 303);
});
