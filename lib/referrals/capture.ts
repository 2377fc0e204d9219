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
 * The owner of `code`, if that code would refer a new account for `email`: never the person's
 * own code, nor one whose owner's address is the same mailbox spelled differently (`me+1@…`,
 * Gmail's dots).
 */
export async function referrerFor(
  db: Queryable,
  code: string | null,
  email: string,
): Promise<number | null> {
  if (!isWellFormedCode(code)) return null;
  const [owner] = await db<{ id: number; email: string }[]>`
    select id, email from users where referral_code = ${code}`;
  if (!owner || canonicalEmail(owner.email) === canonicalEmail(email)) return null;
  return owner.id;
}

/**
 * Record that `code`'s owner referred the brand-new user `referred`. Returns whether a referral
 * was recorded (see `referrerFor` for who cannot refer whom). Call only inside the transaction
 * that created the user.
 */
export async function recordReferral(
  tx: Tx,
  referred: { id: number; email: string },
  code: string | null,
  now: Date,
): Promise<boolean> {
  const referrerId = await referrerFor(tx, code, referred.email);
  if (referrerId === null || referrerId === referred.id) return false;
  const rows = await tx`
    insert into referrals (referrer_id, referred_user_id, code, created_at)
    values (${referrerId}, ${referred.id}, ${code}, ${now})
    on conflict (referred_user_id) do nothing
    returning id`;
  return rows.length > 0;
}
