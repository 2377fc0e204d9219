/** Following a referral link (`/r/CODE`, or `?ref=CODE` on any page) at the web edge. */
import type { State } from "../state.ts";
import { referralCodeExists } from "../referrals/capture.ts";
import { referralCookie } from "./cookies.ts";

/**
 * Remember a valid code for a visitor without an account, on the way to `redirect` (which the
 * route builds with `ctx.redirect`, so it never leaves the site). Signed-in people and unknown
 * codes are sent on without a cookie.
 */
export async function rememberReferral(
  state: Pick<State, "config" | "db" | "user">,
  code: string,
  redirect: Response,
): Promise<Response> {
  if (!state.user && await referralCodeExists(state.db, code)) {
    redirect.headers.append("set-cookie", referralCookie(state.config, code));
  }
  return redirect;
}
