/**
 * Credit: days of paid access that do not come from a subscription. Every extension is a row in
 * the `credit_grants` ledger, and `users.credit_until` is always the end of the latest one:
 * a grant starts at max(now, current credit_until), so credits stack instead of overlapping.
 */
import type { Queryable, Tx } from "../db/client.ts";
import { DAY_MS, wholeDaysUntil } from "../time.ts";
import { lockPerson, setCreditUntil } from "../billing/entitlement.ts";
import { enqueueNotice } from "../notices/send.ts";

/** How long before credit-only access ends the person is told. */
export const CREDIT_ENDING_NOTICE_DAYS = 3;

export type CreditReason = "referral_buyer" | "referral_referrer" | "admin_grant";

export interface CreditGrant {
  userId: number;
  days: number;
  reason: CreditReason;
  referralId?: number | null;
  stripeEventId?: string | null;
  note?: string | null;
}

/** Extend a person's credit; returns the new `credit_until`. Locks the person's row. */
export async function grantCredit(tx: Tx, grant: CreditGrant, now: Date): Promise<Date> {
  if (!Number.isInteger(grant.days) || grant.days <= 0) {
    throw new RangeError(`credit must be a positive whole number of days (got ${grant.days})`);
  }
  const current = await lockPerson(tx, { userId: grant.userId });
  if (!current) throw new Error(`user ${grant.userId} does not exist`);
  const startsAt = new Date(Math.max(now.getTime(), current.creditUntil?.getTime() ?? 0));
  const endsAt = new Date(startsAt.getTime() + grant.days * DAY_MS);
  await setCreditUntil(tx, grant.userId, endsAt);
  // Three days before credit-only access ends, a warning (checked again when it is due).
  await enqueueNotice(tx, {
    kind: "credit_ending",
    userId: grant.userId,
    trigger: `${grant.userId}:${endsAt.toISOString()}`,
    data: { creditUntil: endsAt.toISOString() },
    runAt: new Date(endsAt.getTime() - CREDIT_ENDING_NOTICE_DAYS * DAY_MS),
  }, now);
  await tx`
    insert into credit_grants (user_id, days, reason, referral_id, stripe_event_id, granted_at,
                               starts_at, ends_at, note)
    values (${grant.userId}, ${grant.days}, ${grant.reason}, ${grant.referralId ?? null},
            ${grant.stripeEventId ?? null}, ${now}, ${startsAt}, ${endsAt}, ${grant.note ?? null})`;
  return endsAt;
}

/** Whole days of credit left, rounded up; 0 when none is running. */
export function creditDaysLeft(user: { creditUntil: Date | null }, now: Date): number {
  return wholeDaysUntil(user.creditUntil, now);
}

/**
 * The ledger replayed: what `credit_until` must be if every grant is accounted for. Null when
 * the person never had credit.
 *
 * Grants are replayed in the order they were written (`id`), not by `granted_at`: a grant reads
 * the clock before it waits for the person's row lock, so under concurrency a grant stamped
 * earlier can be applied after one stamped later.
 */
export async function creditUntilFromLedger(db: Queryable, userId: number): Promise<Date | null> {
  const grants = await db<{ days: number; grantedAt: Date }[]>`
    select days, granted_at from credit_grants where user_id = ${userId} order by id`;
  let until: number | null = null;
  for (const grant of grants) {
    until = Math.max(grant.grantedAt.getTime(), until ?? 0) + grant.days * DAY_MS;
  }
  return until === null ? null : new Date(until);
}
