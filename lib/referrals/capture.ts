/**
 * The first half of the referral programme: remembering who invited whom.
 *
 * A visitor arriving through `/r/CODE` (or `?ref=CODE`) carries the code in a 30-day cookie.
 * When they sign in for the first time, a valid code from someone else creates their one and only
 * `referrals` row. Unknown codes, self-referral and existing accounts create nothing.
 */
import { serialize } from "hono/utils/cookie";
import type { Config } from "../config.ts";
import type { Queryable, Tx } from "../db/client.ts";
import { cookieBase } from "../auth/sessions.ts";

export const REFERRAL_COOKIE = "rm_ref";
const REFERRAL_COOKIE_SECONDS = 30 * 24 * 3600;
const CODE_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;

export function isWellFormedCode(code: string | null | undefined): code is string {
  return typeof code === "string" && CODE_PATTERN.test(code);
}

/** Whether a code belongs to an account (and so is worth remembering). */
export async function referralCodeExists(db: Queryable, code: string): Promise<boolean> {
  if (!isWellFormedCode(code)) return false;
  const [row] = await db`select 1 from users where referral_code = ${code}`;
  return row !== undefined;
}

export function referralCookie(config: Config, code: string): string {
  return serialize(REFERRAL_COOKIE, code, {
    ...cookieBase(config),
    maxAge: REFERRAL_COOKIE_SECONDS,
  });
}

export function clearedReferralCookie(config: Config): string {
  return serialize(REFERRAL_COOKIE, "", { ...cookieBase(config), maxAge: 0 });
}

/**
 * Record that `code`'s owner referred the brand-new user `referredUserId`. Returns whether a
 * referral was recorded. Call only inside the transaction that created the user.
 */
export async function recordReferral(
  tx: Tx,
  referredUserId: number,
  code: string | null,
  now: Date,
): Promise<boolean> {
  if (!isWellFormedCode(code)) return false;
  const rows = await tx`
    insert into referrals (referrer_id, referred_user_id, code, created_at)
    select id, ${referredUserId}, ${code}, ${now} from users
    where referral_code = ${code} and id <> ${referredUserId}
    on conflict (referred_user_id) do nothing
    returning id`;
  return rows.length > 0;
}

/**
 * Answer a referral link: remember a valid code for a visitor without an account on the way to
 * `redirect` (which the route builds with `ctx.redirect`, so it never leaves the site). Signed-in
 * people and unknown codes are sent on without a cookie.
 */
export async function captureReferral(
  state: { config: Config; db: Queryable; user: unknown },
  code: string,
  redirect: Response,
): Promise<Response> {
  if (!state.user && await referralCodeExists(state.db, code)) {
    redirect.headers.append("set-cookie", referralCookie(state.config, code));
  }
  return redirect;
}
