/**
 * Credit: days of paid access that do not come from a subscription. Every change is a row in
 * the `credit_grants` ledger, and `users.credit_until` is always what the ledger adds up to:
 * a grant starts at max(now, current credit_until), so credits stack instead of overlapping; a
 * reversal takes its grant's days back from the end, never from before now.
 *
 * For a subscriber, credit also moves the next charge (`lib/billing/next_charge.ts`): the
 * ledger is the same for everyone, and the bill follows it.
 */
import type { Queryable, Tx } from "../db/client.ts";
import { DAY_MS, wholeDaysUntil } from "../time.ts";
import { lockPerson, setCreditUntil } from "../billing/entitlement.ts";
import { enqueueNotice } from "../notices/send.ts";
import { queueChargeMove, undoChargeMove } from "../billing/next_charge.ts";

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

export interface GrantResult {
  /** The ledger row. */
  id: number;
  /** The person's `credit_until` after it. */
  creditUntil: Date;
}

/**
 * Extend a person's credit by a ledger row. Locks the person's row. For a person with a live
 * subscription the same transaction queues moving its next charge by the same days.
 */
export async function grantCredit(
  tx: Tx,
  grant: CreditGrant & { restoresGrantId?: number | null },
  now: Date,
): Promise<GrantResult> {
  if (!Number.isInteger(grant.days) || grant.days <= 0) {
    throw new RangeError(`credit must be a positive whole number of days (got ${grant.days})`);
  }
  const current = await lockPerson(tx, { userId: grant.userId });
  if (!current) throw new Error(`user ${grant.userId} does not exist`);
  const startsAt = new Date(Math.max(now.getTime(), current.creditUntil?.getTime() ?? 0));
  const endsAt = new Date(startsAt.getTime() + grant.days * DAY_MS);
  const [row] = await tx<{ id: number }[]>`
    insert into credit_grants (user_id, days, reason, referral_id, stripe_event_id, granted_at,
                               starts_at, ends_at, note, restores_grant_id)
    values (${grant.userId}, ${grant.days}, ${grant.reason}, ${grant.referralId ?? null},
            ${grant.stripeEventId ?? null}, ${now}, ${startsAt}, ${endsAt}, ${grant.note ?? null},
            ${grant.restoresGrantId ?? null})
    returning id`;
  await setCredit(tx, grant.userId, endsAt, now);
  await queueChargeMove(tx, { id: row.id, userId: grant.userId, days: grant.days }, now);
  return { id: row.id, creditUntil: endsAt };
}

/**
 * Take one grant back: a ledger row of minus its days, from the person's current
 * `credit_until` but never before now (days already enjoyed stay enjoyed), and the move of their
 * next charge undone if its date has not passed. Once per grant; null when it already was.
 */
export async function reverseGrant(
  tx: Tx,
  grantId: number,
  now: Date,
  note: string,
): Promise<GrantResult | null> {
  const [grant] = await tx<{ userId: number; days: number; reason: string; referralId: number }[]>`
    select user_id, days, reason, referral_id from credit_grants where id = ${grantId} and days > 0`;
  if (!grant) throw new Error(`credit grant ${grantId} does not exist`);
  const person = await lockPerson(tx, { userId: grant.userId });
  if (!person?.creditUntil) throw new Error(`user ${grant.userId} has no credit to take back`);
  const current = person.creditUntil;
  const endsAt = reversedUntil(current, now, grant.days);
  const [row] = await tx<{ id: number }[]>`
    insert into credit_grants (user_id, days, reason, referral_id, granted_at, starts_at, ends_at,
                               note, reverses_grant_id)
    values (${grant.userId}, ${-grant.days}, ${grant.reason}, ${grant.referralId}, ${now},
            ${current}, ${endsAt}, ${note}, ${grantId})
    on conflict (reverses_grant_id) do nothing
    returning id`;
  if (!row) return null;
  await setCredit(tx, grant.userId, endsAt, now);
  await undoChargeMove(tx, grantId, now);
  return { id: row.id, creditUntil: endsAt };
}

/** Where credit ends once `days` are taken back from `current`: not before now, not later. */
function reversedUntil(current: Date, now: Date, days: number): Date {
  const taken = current.getTime() - days * DAY_MS;
  return new Date(Math.min(current.getTime(), Math.max(now.getTime(), taken)));
}

/** Store the new end of credit, and warn three days before access that runs on it ends. */
async function setCredit(tx: Tx, userId: number, endsAt: Date, now: Date): Promise<void> {
  await setCreditUntil(tx, userId, endsAt);
  if (endsAt <= now) return;
  // Checked again when it is due: nothing if the person subscribed or has more credit by then.
  await enqueueNotice(tx, {
    kind: "credit_ending",
    userId,
    trigger: `${userId}:${endsAt.toISOString()}`,
    data: { creditUntil: endsAt.toISOString() },
    runAt: new Date(endsAt.getTime() - CREDIT_ENDING_NOTICE_DAYS * DAY_MS),
  }, now);
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
  const rows = await db<{ days: number; grantedAt: Date }[]>`
    select days, granted_at from credit_grants where user_id = ${userId} order by id`;
  let until: Date | null = null as Date | null;
  for (const row of rows) {
    until = row.days > 0
      ? new Date(Math.max(row.grantedAt.getTime(), until?.getTime() ?? 0) + row.days * DAY_MS)
      : reversedUntil(until!, row.grantedAt, -row.days);
  }
  return until;
}
