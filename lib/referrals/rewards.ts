/**
 * What becomes of a referral's reward after the conversion: credited to both sides, taken back
 * when the payment that converted it is refunded in full or disputed, given back when the
 * dispute is won, and held, approved or voided by an operator.
 *
 * What happened to payments is kept by charge (`charge_outcomes`, `payment_disputes`), whatever
 * order Stripe's events arrive in; `settleReward` then brings the reward in line with it. Every
 * change is ledger rows (a reversal per grant, a restoring grant per reversal, each unique), made
 * under the buyer's row lock and the referral's, so duplicate, parallel and out-of-order events
 * change each reward once.
 *
 * Locks are always taken in one order — the buyer, the referral, then the referrer — the order a
 * conversion takes them in.
 */
import type { Queryable, Tx } from "../db/client.ts";
import { REFERRAL_CREDIT_DAYS } from "../referral_terms.ts";
import { lockPerson } from "../billing/entitlement.ts";
import { enqueueNotice } from "../notices/send.ts";
import { DomainError } from "../domain_error.ts";
import { grantCredit, reverseGrant } from "./credits.ts";
import { DAY_MS } from "../time.ts";

/** What the webhook learnt from Stripe about the payment that may convert a referral. */
export interface PaymentFacts {
  chargeId: string | null;
  /** The card's (or bank account's) fingerprint. */
  fingerprint: string | null;
  /** The fingerprints of the referrer's payment methods on file. */
  referrerFingerprints: string[];
}

export const NO_PAYMENT_FACTS: PaymentFacts = {
  chargeId: null,
  fingerprint: null,
  referrerFingerprints: [],
};

export type RewardStatus = "credited" | "held" | "reversed" | "voided";

/** Dispute statuses that leave the money with us. */
const SETTLED_FOR_US = new Set(["won", "warning_closed"]);
const FINAL_DISPUTE_STATUSES = new Set(["won", "lost", "warning_closed"]);

export interface RewardGrant {
  userId: number;
  side: "buyer" | "referrer";
  creditUntil: Date;
}

/**
 * Credit a referral's two sides (the referrer's unless they are past the yearly cap, or have
 * deleted their account). The referral row is already locked by the caller.
 */
export async function creditReferral(
  tx: Tx,
  referralId: number,
  options: { now: Date; eventId: string | null; referrerCapped: boolean },
): Promise<RewardGrant[]> {
  const [referral] = await tx<{ referredUserId: number; referrerId: number | null }[]>`
    update referrals set reward_status = 'credited', credited_at = ${options.now},
      referrer_capped = ${options.referrerCapped}, hold_reason = null
    where id = ${referralId}
    returning referred_user_id, referrer_id`;
  const sides: { userId: number; side: RewardGrant["side"] }[] = [
    { userId: referral.referredUserId, side: "buyer" },
  ];
  if (referral.referrerId !== null && !options.referrerCapped) {
    sides.push({ userId: referral.referrerId, side: "referrer" });
  }
  const grants: RewardGrant[] = [];
  for (const { userId, side } of sides) {
    const { creditUntil } = await grantCredit(tx, {
      userId,
      days: REFERRAL_CREDIT_DAYS,
      reason: side === "buyer" ? "referral_buyer" : "referral_referrer",
      referralId,
      stripeEventId: options.eventId,
    }, options.now);
    grants.push({ userId, side, creditUntil });
  }
  return grants;
}

/** Tell each credited side; the referrer hears only that a friend subscribed, never who. */
export async function announceReward(
  tx: Tx,
  referralId: number,
  grants: RewardGrant[],
  now: Date,
): Promise<void> {
  for (const { userId, side, creditUntil } of grants) {
    const [person] = await tx<{ subscriber: boolean }[]>`
      select stripe_subscription_status in ('trialing', 'active', 'past_due') as subscriber
      from users where id = ${userId}`;
    await enqueueNotice(tx, {
      kind: "referral_reward",
      userId,
      trigger: `${referralId}:${side}`,
      data: {
        days: REFERRAL_CREDIT_DAYS,
        creditUntil: creditUntil.toISOString(),
        side,
        subscriber: person?.subscriber === true,
      },
    }, now);
  }
}

/**
 * Bring a converted referral's reward in line with what happened to its payment: take both
 * sides' days back while the payment is refunded in full or under a dispute not won, give them
 * back when it no longer is. Held and voided rewards are an operator's to change. Returns the
 * status it leaves.
 */
export async function settleReward(
  tx: Tx,
  referralId: number,
  now: Date,
): Promise<RewardStatus | null> {
  const referral = await lockReferral(tx, referralId);
  if (!referral || (referral.rewardStatus !== "credited" && referral.rewardStatus !== "reversed")) {
    return referral?.rewardStatus ?? null;
  }
  const takenBack = referral.convertingChargeId
    ? await paymentTakenBack(tx, referral.convertingChargeId)
    : null;
  if (referral.rewardStatus === "credited" && takenBack) {
    await reverseReferralGrants(tx, referralId, now, `payment ${takenBack}`);
    await tx`
      update referrals set reward_status = 'reversed', reversed_at = ${now},
        reversal_cause = ${takenBack}
      where id = ${referralId}`;
    return "reversed";
  }
  if (referral.rewardStatus === "reversed" && !takenBack) {
    await restoreReferralGrants(tx, referralId, now);
    await tx`
      update referrals set reward_status = 'credited', restored_at = ${now}, reversal_cause = null
      where id = ${referralId}`;
    return "credited";
  }
  return referral.rewardStatus;
}

/** An operator credits a held referral, once (the yearly cap and its payment still count). */
export async function approveReferral(
  tx: Tx,
  referralId: number,
  now: Date,
  rewardsPerYear: number,
): Promise<RewardStatus> {
  const referral = await lockReferral(tx, referralId);
  if (!referral) throw new DomainError("not_found", "referral_not_found", "No such referral");
  if (referral.rewardStatus !== "held") {
    throw new DomainError(
      "conflict",
      "referral_not_held",
      `Referral ${referralId} is not held (it is ${referral.rewardStatus ?? "not converted"})`,
    );
  }
  const referrerCapped = referral.referrerId !== null &&
    await reachedYearlyCap(tx, referral.referrerId, now, rewardsPerYear);
  const grants = await creditReferral(tx, referralId, { now, eventId: null, referrerCapped });
  const status = await settleReward(tx, referralId, now);
  if (status === "credited") await announceReward(tx, referralId, grants, now);
  return status ?? "credited";
}

/** An operator takes a referral's reward back for good (a won dispute does not restore it). */
export async function voidReferral(
  tx: Tx,
  referralId: number,
  reason: string,
  now: Date,
): Promise<void> {
  const referral = await lockReferral(tx, referralId);
  if (!referral) throw new DomainError("not_found", "referral_not_found", "No such referral");
  if (referral.rewardStatus === "voided" || referral.rewardStatus === null) {
    throw new DomainError(
      "conflict",
      "referral_not_rewarded",
      `Referral ${referralId} has no reward to void (it is ${
        referral.rewardStatus ?? "not converted"
      })`,
    );
  }
  await reverseReferralGrants(tx, referralId, now, `voided: ${reason}`);
  await tx`
    update referrals set reward_status = 'voided', reversed_at = ${now},
      reversal_cause = ${`voided: ${reason}`}
    where id = ${referralId}`;
}

/**
 * Whether the referrer has had their yearly number of rewards already. Counted under their row
 * lock, so two conversions at once cannot both take the last one.
 */
export async function reachedYearlyCap(
  tx: Tx,
  referrerId: number,
  now: Date,
  rewardsPerYear: number,
): Promise<boolean> {
  await lockPerson(tx, { userId: referrerId });
  const [{ count }] = await tx<{ count: number }[]>`
    select count(*)::int from referrals
    where referrer_id = ${referrerId} and reward_status = 'credited' and not referrer_capped
      and credited_at > ${new Date(now.getTime() - 365 * DAY_MS)}`;
  return count >= rewardsPerYear;
}

interface LockedReferral {
  id: number;
  referrerId: number | null;
  rewardStatus: RewardStatus | null;
  convertingChargeId: string | null;
}

/** The buyer's row, then the referral's, locked for this transaction. */
async function lockReferral(tx: Tx, referralId: number): Promise<LockedReferral | null> {
  const [found] = await tx<{ referredUserId: number }[]>`
    select referred_user_id from referrals where id = ${referralId}`;
  if (!found) return null;
  await lockPerson(tx, { userId: found.referredUserId });
  const [referral] = await tx<LockedReferral[]>`
    select id, referrer_id, reward_status, converting_charge_id from referrals
    where id = ${referralId} for update`;
  return referral ?? null;
}

/** Each of the referral's grants still in effect, taken back. */
async function reverseReferralGrants(tx: Tx, referralId: number, now: Date, note: string) {
  const grants = await tx<{ id: number }[]>`
    select id from credit_grants g
    where referral_id = ${referralId} and days > 0
      and not exists (select 1 from credit_grants r where r.reverses_grant_id = g.id)
    order by id`;
  for (const grant of grants) await reverseGrant(tx, grant.id, now, note);
}

/** Each of the referral's reversals, given back by a new grant of the same days. */
async function restoreReferralGrants(tx: Tx, referralId: number, now: Date) {
  const reversals = await tx<{ id: number; userId: number; days: number; reason: string }[]>`
    select id, user_id, -days as days, reason from credit_grants r
    where referral_id = ${referralId} and days < 0
      and not exists (select 1 from credit_grants x where x.restores_grant_id = r.id)
    order by id`;
  for (const reversal of reversals) {
    await grantCredit(tx, {
      userId: reversal.userId,
      days: reversal.days,
      reason: reversal.reason as "referral_buyer" | "referral_referrer",
      referralId,
      note: "restored: the dispute was won",
      restoresGrantId: reversal.id,
    }, now);
  }
}

/** Why the payment no longer counts: refunded in full, or disputed and not won; else null. */
async function paymentTakenBack(
  db: Queryable,
  chargeId: string,
): Promise<"refunded" | "disputed" | null> {
  const [outcome] = await db<{ refunded: boolean; disputed: boolean }[]>`
    select
      exists (select 1 from charge_outcomes
              where charge_id = ${chargeId} and refunded_in_full_at is not null) as refunded,
      exists (select 1 from payment_disputes
              where charge_id = ${chargeId} and status <> all(${[...SETTLED_FOR_US]})) as disputed`;
  return outcome.refunded ? "refunded" : outcome.disputed ? "disputed" : null;
}

/** A charge refunded in full (`charge.refunded`); the first time it was seen stays. */
export async function recordFullRefund(tx: Tx, chargeId: string, now: Date): Promise<void> {
  await tx`
    insert into charge_outcomes (charge_id, refunded_in_full_at) values (${chargeId}, ${now})
    on conflict (charge_id) do update
      set refunded_in_full_at = coalesce(charge_outcomes.refunded_in_full_at, excluded.refunded_in_full_at)`;
}

/**
 * A dispute's status as of an event: a newer event replaces an older one, and a closed dispute
 * (won, lost) stays closed whatever arrives after.
 */
export async function recordDispute(
  tx: Tx,
  dispute: { id: string; charge: string; status: string },
  at: Date,
): Promise<void> {
  await tx`
    insert into payment_disputes (dispute_id, charge_id, status, updated_at)
    values (${dispute.id}, ${dispute.charge}, ${dispute.status}, ${at})
    on conflict (dispute_id) do update set status = excluded.status, updated_at = excluded.updated_at
    where payment_disputes.status <> all(${[...FINAL_DISPUTE_STATUSES]})
      and (excluded.updated_at >= payment_disputes.updated_at
           or excluded.status = any(${[...FINAL_DISPUTE_STATUSES]}))`;
}

/** The referral a charge converted, if any. */
export async function referralConvertedBy(db: Queryable, chargeId: string): Promise<number | null> {
  const [row] = await db<{ id: number }[]>`
    select id from referrals where converting_charge_id = ${chargeId}`;
  return row?.id ?? null;
}

/** Remember a payment method a person has paid with. */
export async function recordPaymentFingerprint(
  tx: Tx,
  userId: number,
  fingerprint: string,
  now: Date,
): Promise<void> {
  await tx`
    insert into payment_fingerprints (user_id, fingerprint, first_seen_at)
    values (${userId}, ${fingerprint}, ${now})
    on conflict do nothing`;
}

/** A referral as operators see it. */
export interface ReferralForOperators {
  id: number;
  referrerEmail: string | null;
  buyerEmail: string;
  createdAt: Date;
  convertedAt: Date | null;
  rewardStatus: RewardStatus | null;
  holdReason: string | null;
  referrerCapped: boolean;
  reversalCause: string | null;
  convertingChargeId: string | null;
}

/** Referrals, newest first: all, or only those held for an operator. */
export async function referralsForOperators(
  db: Queryable,
  filter: { heldOnly: boolean; limit: number },
): Promise<ReferralForOperators[]> {
  return await db<ReferralForOperators[]>`
    select r.id, referrer.email as referrer_email, buyer.email as buyer_email, r.created_at,
           r.converted_at, r.reward_status, r.hold_reason, r.referrer_capped, r.reversal_cause,
           r.converting_charge_id
    from referrals r
      join users buyer on buyer.id = r.referred_user_id
      left join users referrer on referrer.id = r.referrer_id
    where (${filter.heldOnly} = false or r.reward_status = 'held')
    order by r.created_at desc, r.id desc
    limit ${filter.limit}`;
}
