/**
 * Who is making this request: a signed-in person (session cookie), the operator (admin bearer
 * token, which has no user row and so can never buy), or nobody.
 */
import { parse } from "hono/utils/cookie";
import type { Context } from "../web/mod.ts";
import type { State } from "../state.ts";
import { secretsEqual } from "../crypto.ts";
import { findSessionUser } from "../auth/sessions.ts";
import { isWellFormedCode } from "../referrals/capture.ts";
import { ApiError } from "./errors.ts";
import { REFERRAL_COOKIE, SESSION_COOKIE, SIGN_IN_BROWSER_COOKIE } from "./cookies.ts";

/** What `randomToken()` makes: 32 random bytes, base64url. */
const NONCE_PATTERN = /^[\w-]{43}$/;

export async function identify(ctx: Context<State>): Promise<void> {
  const { state } = ctx;
  const cookies = parse(ctx.req.headers.get("cookie") ?? "");
  const authorization = ctx.req.headers.get("authorization");
  if (authorization !== null) {
    const token = /^Bearer (\S+)$/.exec(authorization)?.[1];
    const adminToken = state.config.adminToken;
    if (!token || !adminToken || !(await secretsEqual(token, adminToken))) {
      throw new ApiError(401, "The Authorization header does not carry a valid admin token");
    }
    state.isAdmin = true;
    return;
  }
  const sessionToken = cookies[SESSION_COOKIE];
  if (sessionToken) {
    state.sessionToken = sessionToken;
    state.user = await findSessionUser(state.db, sessionToken, state.now());
  }
  const nonce = cookies[SIGN_IN_BROWSER_COOKIE];
  if (nonce && NONCE_PATTERN.test(nonce)) state.signInNonce = nonce;
  const referral = cookies[REFERRAL_COOKIE];
  if (!state.user && isWellFormedCode(referral)) state.pendingReferral = referral;
}
