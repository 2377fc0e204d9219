/**
 * The first half of the referral programme: remembering who invited whom.
 *
 * A visitor arriving through `/r/CODE` (or `?ref=CODE`) carries the code with them (the web edge
 * keeps it in a cookie). When they sign in for the first time, a valid code from someone else
 * creates their one and only `referrals` row. Unknown codes, self-referral (the same mailbox
 * under another spelling included) and existing accounts create nothing.
 */
import type { Queryable, Tx } from "../db/client.ts";
import { canonicalEmail } from "./canonical_email.ts";

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

/**
 * Record that `code`'s owner referred the brand-new user `referredUserId`. Returns whether a
 * referral was recorded: never for the person's own code, nor when both addresses are one
 * mailbox spelled differently (`me+1@…`, Gmail's dots). Call only inside the transaction that
 * created the user.
 */
export async function recordReferral(
  tx: Tx,
  referredUserId: number,
  code: string | null,
  now: Date,
): Promise<boolean> {
  if (!isWellFormedCode(code)) return false;
  const [pair] = await tx<{ referrerId: number; referrerEmail: string; email: string }[]>`
    select referrer.id as referrer_id, referrer.email as referrer_email, referred.email
    from users referrer, users referred
    where referrer.referral_code = ${code} and referred.id = ${referredUserId}
      and referrer.id <> referred.id`;
  if (!pair || canonicalEmail(pair.referrerEmail) === canonicalEmail(pair.email)) return false;
  const rows = await tx`
    insert into referrals (referrer_id, referred_user_id, code, created_at)
    values (${pair.referrerId}, ${referredUserId}, ${code}, ${now})
    on conflict (referred_user_id) do nothing
    returning id`;
  return rows.length > 0;
}
