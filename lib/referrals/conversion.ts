/**
 * The second half of the referral programme: when a referred person makes their first real
 * payment, both they and their referrer get 45 days of paid access. Once per referred person:
 * the conditional update below is the guarantee (of two concurrent conversions, the second finds
 * `converted_at` already set and does nothing), and a unique index on the ledger backs it up.
 */
import type { Tx } from "../db/client.ts";
import { REFERRAL_CREDIT_DAYS } from "../referral_terms.ts";
import { type CreditReason, grantCredit } from "./credits.ts";
import { enqueueNotice } from "../notices/send.ts";

export interface Conversion {
  referralId: number;
  referrerId: number | null;
}

export async function convertReferral(
  tx: Tx,
  user: { id: number },
  options: { eventId: string | null; now: Date },
): Promise<Conversion | null> {
  const [referral] = await tx<{ id: number; referrerId: number | null }[]>`
    update referrals set converted_at = ${options.now}, credited_at = ${options.now}
    where referred_user_id = ${user.id} and converted_at is null
    returning id, referrer_id`;
  if (!referral) return null;
  const common = {
    days: REFERRAL_CREDIT_DAYS,
    referralId: referral.id,
    stripeEventId: options.eventId,
  };
  const sides: { userId: number; side: "buyer" | "referrer"; reason: CreditReason }[] = [
    { userId: user.id, side: "buyer", reason: "referral_buyer" },
  ];
  // A referrer who has since deleted their account does not stop the buyer's credit.
  if (referral.referrerId !== null) {
    sides.push({ userId: referral.referrerId, side: "referrer", reason: "referral_referrer" });
  }
  for (const { userId, side, reason } of sides) {
    const creditUntil = await grantCredit(tx, { ...common, userId, reason }, options.now);
    // The referrer hears only that a friend subscribed, never who.
    await enqueueNotice(tx, {
      kind: "referral_reward",
      userId,
      trigger: `${referral.id}:${side}`,
      data: { days: REFERRAL_CREDIT_DAYS, creditUntil: creditUntil.toISOString(), side },
    }, options.now);
  }
  return { referralId: referral.id, referrerId: referral.referrerId };
}
