/**
 * The subscription state machine, in one place. Stripe tells us about subscriptions through
 * events that may arrive late, twice or out of order; this module decides what each one may
 * change:
 *
 * - every subscription's latest known state is kept in `subscriptions`, stamped with the
 *   `created` time of the event that set it: an older event never overwrites a newer one, and a
 *   `created` event never overwrites anything (it is by definition the first state);
 * - an ended subscription stays ended, whatever arrives after;
 * - a past-due episode starts when a subscription first becomes `past_due` and ends when it
 *   leaves it: `past_due_since` is how long access lasts while Stripe retries.
 *
 * What the recorded states mean for the person is `refreshPerson` in `entitlement.ts`. Callers
 * hold the person's row lock (`lockPerson`), so events of one person apply one at a time whatever
 * the delivery interleaving.
 */
import type postgres from "postgres";
import type { Queryable, Tx } from "../db/client.ts";
import { type Read, readOne, rowFromJson } from "../db/reads.ts";
import { enqueueWhen, type NewJob, noteEnqueued } from "../jobs/queue.ts";

export interface SubscriptionSnapshot {
  id: string;
  status: string;
  /** When Stripe created the subscription. */
  startedAt: Date | null;
  trialEnd: Date | null;
  currentPeriodEnd: Date | null;
  cancelAtPeriodEnd: boolean;
  /** The price of the subscription's (single) item, and what it charges per period. */
  priceId: string | null;
  amount: number | null;
  currency: string | null;
  /** Why it was cancelled, as Stripe says (`cancellation_requested`…), when it was. */
  cancellationReason: string | null;
}

export type SubscriptionChange = "created" | "updated" | "deleted";

/** Statuses of a subscription that has ended, or never started and never will. */
export const ENDED_STATUSES: ReadonlySet<string> = new Set(["canceled", "incomplete_expired"]);

interface StoredSubscription {
  stripeSubscriptionId: string;
  status: string;
  endedAt: Date | null;
}

/**
 * Record what an event says about a subscription. Returns the stored state when the event was
 * applied, or null when it was stale (older than what we know) or the subscription had ended.
 * `owed.jobs` (the notices the change owes) are enqueued by the same statement, only if the change
 * was recorded.
 */
export async function recordSubscription(
  tx: Tx,
  userId: number,
  snapshot: SubscriptionSnapshot,
  change: SubscriptionChange,
  eventCreatedAt: Date,
  owed: { jobs: readonly NewJob[]; now: Date } = { jobs: [], now: eventCreatedAt },
): Promise<StoredSubscription | null> {
  const upsert = subscriptionUpsert(tx, userId, snapshot, change, eventCreatedAt);
  if (owed.jobs.length === 0) {
    const [row] = await tx<StoredSubscription[]>`${upsert}`;
    return row ?? null;
  }
  const [row] = await tx<(StoredSubscription & { enqueued: number })[]>`
    with recorded as (${upsert}),
      enqueued as (${enqueueWhen(tx, owed.jobs, owed.now, tx`exists (select 1 from recorded)`)})
    select recorded.*, (select count(*)::int from enqueued) as enqueued from recorded`;
  if (!row) return null;
  const { enqueued, ...stored } = row;
  if (enqueued > 0) noteEnqueued(tx);
  return stored;
}

function subscriptionUpsert(
  tx: Tx,
  userId: number,
  snapshot: SubscriptionSnapshot,
  change: SubscriptionChange,
  eventCreatedAt: Date,
): postgres.Fragment {
  const endedAt = change === "deleted" || ENDED_STATUSES.has(snapshot.status)
    ? eventCreatedAt
    : null;
  const pastDueSince = snapshot.status === "past_due" ? eventCreatedAt : null;
  return tx`
    insert into subscriptions as s
      (stripe_subscription_id, user_id, status, started_at, trial_end_at, current_period_end,
       cancel_at_period_end, price_id, amount, currency, past_due_since, last_event_at, ended_at)
    values (${snapshot.id}, ${userId}, ${snapshot.status}, ${snapshot.startedAt},
            ${snapshot.trialEnd}, ${snapshot.currentPeriodEnd}, ${snapshot.cancelAtPeriodEnd},
            ${snapshot.priceId}, ${snapshot.amount}, ${snapshot.currency}, ${pastDueSince},
            ${eventCreatedAt}, ${endedAt})
    on conflict (stripe_subscription_id) do update set
      status = excluded.status,
      started_at = coalesce(s.started_at, excluded.started_at),
      price_id = coalesce(excluded.price_id, s.price_id),
      amount = coalesce(excluded.amount, s.amount),
      currency = coalesce(excluded.currency, s.currency),
      trial_end_at = excluded.trial_end_at,
      current_period_end = coalesce(excluded.current_period_end, s.current_period_end),
      cancel_at_period_end = excluded.cancel_at_period_end,
      -- The episode's first failure stays its start for as long as it lasts.
      past_due_since = case when excluded.status = 'past_due'
        then coalesce(case when s.status = 'past_due' then s.past_due_since end,
                      excluded.past_due_since)
        end,
      last_event_at = greatest(s.last_event_at, excluded.last_event_at),
      ended_at = excluded.ended_at
    where s.ended_at is null
      and (${change} = 'deleted' or (${change} = 'updated' and s.last_event_at <= excluded.last_event_at))
    returning stripe_subscription_id, status, ended_at`;
}

/** A subscription as recorded, for deciding access and for what settings says. */
export interface RecordedSubscription {
  stripeSubscriptionId: string;
  userId: number;
  status: string;
  startedAt: Date | null;
  trialEndAt: Date | null;
  currentPeriodEnd: Date | null;
  cancelAtPeriodEnd: boolean;
  priceId: string | null;
  amount: number | null;
  currency: string | null;
  pastDueSince: Date | null;
  lastEventAt: Date;
  endedAt: Date | null;
  duplicateOf: string | null;
  duplicateResolvedAt: Date | null;
  duplicateRefundedAmount: number | null;
}

/** Its timestamps, which a row read as json carries as text. */
const SUBSCRIPTION_DATES = [
  "startedAt",
  "trialEndAt",
  "currentPeriodEnd",
  "pastDueSince",
  "lastEventAt",
  "endedAt",
  "duplicateResolvedAt",
] as const satisfies readonly (keyof RecordedSubscription)[];

/** A subscription as recorded, to read together with others (`readAtOnce`). */
export function subscriptionRead(subscriptionId: string): Read<RecordedSubscription | null> {
  return {
    query: (db) =>
      db`select to_json(s) from subscriptions s where stripe_subscription_id = ${subscriptionId}`,
    parse: (row) =>
      row === null ? null : rowFromJson<RecordedSubscription>(row, SUBSCRIPTION_DATES),
  };
}

/**
 * The same row as `subscriptionRead`, read alone: the driver parses it, which costs less than
 * json (10 to 40 µs of the app's time a read, measured).
 */
export async function findSubscription(
  db: Queryable,
  subscriptionId: string,
): Promise<RecordedSubscription | null> {
  const [row] = await db<RecordedSubscription[]>`
    select * from subscriptions where stripe_subscription_id = ${subscriptionId}`;
  return row ?? null;
}

/** Every subscription the person has had, the oldest first (by Stripe's `created`). */
export async function subscriptionsOf(
  db: Queryable,
  userId: number,
): Promise<RecordedSubscription[]> {
  return await db<RecordedSubscription[]>`
    select * from subscriptions where user_id = ${userId}
    order by coalesce(started_at, last_event_at), stripe_subscription_id`;
}

/** Whether the person has ever had a subscription (so their free trial is used). */
export function hadSubscriptionRead(userId: number): Read<boolean> {
  return {
    query: (db) => db`select exists (select 1 from subscriptions where user_id = ${userId})`,
    parse: (had) => had as boolean,
  };
}

export async function hasHadSubscription(db: Queryable, userId: number): Promise<boolean> {
  return await readOne(db, hadSubscriptionRead(userId));
}

/**
 * The person's Stripe customer is gone, and with it every subscription it had (Stripe cancels
 * them): end those still live, at `at`.
 */
export async function endLiveSubscriptions(tx: Tx, userId: number, at: Date): Promise<number> {
  const ended = await tx`
    update subscriptions set status = 'canceled', ended_at = ${at},
      last_event_at = greatest(last_event_at, ${at})
    where user_id = ${userId} and ended_at is null
    returning stripe_subscription_id`;
  return ended.length;
}

/** No longer a duplicate: the one it duplicated ended first, so it is the person's only one. */
export async function unmarkDuplicate(db: Queryable, subscriptionId: string): Promise<void> {
  await db`
    update subscriptions set duplicate_of = null
    where stripe_subscription_id = ${subscriptionId} and duplicate_resolved_at is null`;
}

/** Mark `subscriptionId` as a duplicate of `keptId`; false if it was marked already. */
export async function markDuplicate(
  tx: Tx,
  subscriptionId: string,
  keptId: string,
): Promise<boolean> {
  const marked = await tx`
    update subscriptions set duplicate_of = ${keptId}
    where stripe_subscription_id = ${subscriptionId} and duplicate_of is null
    returning stripe_subscription_id`;
  return marked.length > 0;
}

/** A duplicate was cancelled in Stripe and its payments refunded (`refunded`, minor units). */
export async function markDuplicateResolved(
  db: Queryable,
  subscriptionId: string,
  refunded: number,
  at: Date,
): Promise<void> {
  await db`
    update subscriptions set duplicate_resolved_at = ${at}, duplicate_refunded_amount = ${refunded}
    where stripe_subscription_id = ${subscriptionId}`;
}
