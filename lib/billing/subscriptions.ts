/**
 * The subscription state machine, in one place. Stripe tells us about subscriptions through
 * events that may arrive late, twice or out of order; this module decides what each one may
 * change:
 *
 * - every subscription's latest known state is kept in `subscriptions`, stamped with the
 *   `created` time of the event that set it: an older event never overwrites a newer one, and a
 *   `created` event never overwrites anything (it is by definition the first state);
 * - an ended subscription stays ended, whatever arrives after.
 *
 * What a recorded state means for the person is `projectSubscription` in `entitlement.ts`.
 * Callers hold the person's row lock (`lockPerson`), so events of one person apply one at a time
 * whatever the delivery interleaving.
 */
import type { Queryable, Tx } from "../db/client.ts";

export interface SubscriptionSnapshot {
  id: string;
  status: string;
  trialEnd: Date | null;
  cancelAtPeriodEnd: boolean;
  /** The price of the subscription's (single) item. */
  priceId: string | null;
}

export type SubscriptionChange = "created" | "updated" | "deleted";

interface StoredSubscription {
  stripeSubscriptionId: string;
  status: string;
  endedAt: Date | null;
}

/**
 * Record what an event says about a subscription. Returns the stored state when the event was
 * applied, or null when it was stale (older than what we know) or the subscription had ended.
 */
export async function recordSubscription(
  tx: Tx,
  userId: number,
  snapshot: SubscriptionSnapshot,
  change: SubscriptionChange,
  eventCreatedAt: Date,
): Promise<StoredSubscription | null> {
  const endedAt = change === "deleted" ? eventCreatedAt : null;
  const [row] = await tx<StoredSubscription[]>`
    insert into subscriptions as s
      (stripe_subscription_id, user_id, status, trial_end_at, cancel_at_period_end,
       price_id, last_event_at, ended_at)
    values (${snapshot.id}, ${userId}, ${snapshot.status}, ${snapshot.trialEnd},
            ${snapshot.cancelAtPeriodEnd}, ${snapshot.priceId}, ${eventCreatedAt}, ${endedAt})
    on conflict (stripe_subscription_id) do update set
      status = excluded.status,
      price_id = coalesce(excluded.price_id, s.price_id),
      trial_end_at = excluded.trial_end_at,
      cancel_at_period_end = excluded.cancel_at_period_end,
      last_event_at = greatest(s.last_event_at, excluded.last_event_at),
      ended_at = excluded.ended_at
    where s.ended_at is null
      and (${change} = 'deleted' or (${change} = 'updated' and s.last_event_at <= excluded.last_event_at))
    returning stripe_subscription_id, status, ended_at`;
  return row ?? null;
}

export interface CurrentSubscription {
  status: string;
  priceId: string | null;
  cancelAtPeriodEnd: boolean;
}

/** What we know of the person's current subscription, for display. */
export async function currentSubscription(
  db: Queryable,
  user: { stripeSubscriptionId: string | null },
): Promise<CurrentSubscription | null> {
  if (!user.stripeSubscriptionId) return null;
  const [row] = await db<CurrentSubscription[]>`
    select status, price_id, cancel_at_period_end from subscriptions
    where stripe_subscription_id = ${user.stripeSubscriptionId}`;
  return row ?? null;
}

/** Whether the recorded state of a subscription came from an event created at `instant`. */
export async function recordedAt(tx: Tx, subscriptionId: string, instant: Date): Promise<boolean> {
  const [row] = await tx<{ same: boolean }[]>`
    select last_event_at = ${instant} as same from subscriptions
    where stripe_subscription_id = ${subscriptionId}`;
  return row?.same ?? false;
}

/** Whether we know this subscription to have ended. */
export async function subscriptionEnded(tx: Tx, subscriptionId: string): Promise<boolean> {
  const [row] = await tx<{ endedAt: Date | null }[]>`
    select ended_at from subscriptions where stripe_subscription_id = ${subscriptionId}`;
  return row?.endedAt != null;
}

/** The status we last recorded for a subscription, if any. */
export async function knownStatus(tx: Tx, subscriptionId: string): Promise<string | null> {
  const [row] = await tx<{ status: string }[]>`
    select status from subscriptions where stripe_subscription_id = ${subscriptionId}`;
  return row?.status ?? null;
}
