/**
 * The second half of the referral programme: when a referred person makes their first real
 * payment, both they and their referrer get 45 days of paid access. Once per referred person:
 * the conditional update below is the guarantee (of two concurrent conversions, the second finds
 * `converted_at` already set and does nothing), and a unique index on the ledger backs it up.
 *
 * Guards: a payment made with a card the referrer has paid with is held for an operator instead
 * of credited, and a referrer earns at most `referralRewardsPerYear` rewards in any 365 days
 * (the friend is still credited). A payment already refunded or disputed when it converts takes
 * the reward straight back (`rewards.ts`).
 */
import type { Tx } from "../db/client.ts";
import {
  announceReward,
  creditReferral,
  type PaymentFacts,
  reachedYearlyCap,
  settleReward,
} from "./rewards.ts";

export type ConversionOutcome = "credited" | "held" | "reversed";

export interface Conversion {
  referralId: number;
  referrerId: number | null;
  outcome: ConversionOutcome;
  /** The referrer's side was not credited: they reached the yearly cap. */
  referrerCapped: boolean;
}

export async function convertReferral(
  tx: Tx,
  user: { id: number },
  options: {
    eventId: string | null;
    now: Date;
    payment: PaymentFacts;
    rewardsPerYear: number;
  },
): Promise<Conversion | null> {
  const { now, payment } = options;
  const [referral] = await tx<{ id: number; referrerId: number | null }[]>`
    update referrals set converted_at = ${now}, converting_charge_id = ${payment.chargeId}
    where referred_user_id = ${user.id} and converted_at is null
    returning id, referrer_id`;
  if (!referral) return null;
  const conversion = { referralId: referral.id, referrerId: referral.referrerId };

  if (
    referral.referrerId !== null && await paidWithReferrersCard(tx, referral.referrerId, payment)
  ) {
    await tx`
      update referrals set reward_status = 'held', hold_reason = 'same_card'
      where id = ${referral.id}`;
    return { ...conversion, outcome: "held", referrerCapped: false };
  }
  const referrerCapped = referral.referrerId !== null &&
    await reachedYearlyCap(tx, referral.referrerId, now, options.rewardsPerYear);
  const grants = await creditReferral(tx, referral.id, {
    now,
    eventId: options.eventId,
    referrerCapped,
  });
  if (await settleReward(tx, referral.id, now) === "reversed") {
    return { ...conversion, outcome: "reversed", referrerCapped };
  }
  await announceReward(tx, referral.id, grants, now);
  return { ...conversion, outcome: "credited", referrerCapped };
}

/** The card this payment used is one the referrer has paid with, or has on file. */
async function paidWithReferrersCard(
  tx: Tx,
  referrerId: number,
  payment: PaymentFacts,
): Promise<boolean> {
  if (!payment.fingerprint) return false;
  if (payment.referrerFingerprints.includes(payment.fingerprint)) return true;
  const [row] = await tx`
    select 1 from payment_fingerprints
    where user_id = ${referrerId} and fingerprint = ${payment.fingerprint}`;
  return row !== undefined;
}
