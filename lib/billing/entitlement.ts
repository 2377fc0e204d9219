/**
 * The person's billing state and who may read paid content.
 *
 * `users.tier`, `stripe_customer_id`, `stripe_customer_generation`, `stripe_subscription_id`,
 * `stripe_subscription_status`, `stripe_trial_end_at`, `stripe_past_due_since` and
 * `credit_until` are written here and nowhere else (a test checks the source), and
 * `hasPaidAccess` is the one rule every page, API answer and operator command uses. Writers lock
 * the person first (`lockPerson`), so changes to one person apply one at a time whatever order
 * Stripe's events and the person's own requests arrive in.
 *
 * The policy (the README's "Access follows the money"):
 * - a `trialing` or `active` subscription gives paid access;
 * - a `past_due` one keeps it while Stripe retries, until `PAST_DUE_GRACE_DAYS` after the first
 *   failed payment of that episode — a time comparison here, at read time, not a job;
 * - `unpaid`, `paused`, `incomplete`, `incomplete_expired` and `canceled` give none;
 * - referral credit (`credit_until`) gives access on its own, whatever the subscriptions.
 * The person's `stripe_*` columns and `tier` describe their current subscription: the best of
 * those that have not ended (not a duplicate being cancelled; in good standing before past due
 * before the rest; then the oldest) — or, when all have ended, the last to end — recomputed from
 * all of them after every change, so losing one never hides another.
 */
import type { Queryable, Tx } from "../db/client.ts";
import type { User } from "../auth/users.ts";
import { DAY_MS } from "../time.ts";

export type Entitled = Pick<
  User,
  "tier" | "creditUntil" | "stripeSubscriptionStatus" | "stripePastDueSince"
>;

/** Paid access now: a subscription in good standing or within its grace, or running credit. */
export function hasPaidAccess(person: Entitled, now: Date, graceDays: number): boolean {
  return subscriptionGivesAccess(person, now, graceDays) ||
    (person.creditUntil !== null && person.creditUntil > now);
}

function subscriptionGivesAccess(person: Entitled, now: Date, graceDays: number): boolean {
  if (person.tier !== "paid") return false;
  if (person.stripeSubscriptionStatus !== "past_due") return true;
  const graceEnd = pastDueAccessEnds(person, graceDays);
  return graceEnd !== null && graceEnd > now;
}

/** When a past-due person loses access unless the payment succeeds; null when not past due. */
export function pastDueAccessEnds(
  person: Pick<User, "stripeSubscriptionStatus" | "stripePastDueSince">,
  graceDays: number,
): Date | null {
  if (person.stripeSubscriptionStatus !== "past_due" || !person.stripePastDueSince) return null;
  return new Date(person.stripePastDueSince.getTime() + graceDays * DAY_MS);
}

/**
 * The person an event or request is about, row-locked until the transaction ends: by user id
 * when one is given and exists, else by Stripe customer id.
 */
export async function lockPerson(
  tx: Tx,
  keys: { userId?: number | string | null; customerId?: string | null },
): Promise<User | null> {
  const userId = typeof keys.userId === "string" && /^\d{1,15}$/.test(keys.userId)
    ? Number(keys.userId)
    : typeof keys.userId === "number"
    ? keys.userId
    : null;
  if (userId !== null) {
    const [user] = await tx<User[]>`select * from users where id = ${userId} for update`;
    if (user) return user;
  }
  if (keys.customerId) {
    const [user] = await tx<User[]>`
      select * from users where stripe_customer_id = ${keys.customerId} for update`;
    if (user) return user;
  }
  return null;
}

/**
 * Record the person's Stripe customer. A person keeps the first customer recorded for them
 * (concurrent first checkouts mint one customer, and a late event never swaps it); returns the
 * one stored, or null when the person has deleted their account (it takes no customer again).
 */
export async function setStripeCustomer(
  db: Queryable,
  userId: number,
  customerId: string,
): Promise<string | null> {
  const [stored] = await db<{ stripeCustomerId: string }[]>`
    update users set stripe_customer_id = coalesce(stripe_customer_id, ${customerId})
    where id = ${userId} and deleted_at is null
    returning stripe_customer_id`;
  return stored?.stripeCustomerId ?? null;
}

/**
 * The person's Stripe customer no longer exists (deleted in Stripe): forget it, so the next
 * checkout mints a new one — a new generation, so its idempotency key is new too. Only when the
 * stored customer is still `customerId`: a late word about an older customer changes nothing.
 */
export async function forgetStripeCustomer(
  tx: Tx,
  userId: number,
  customerId: string,
): Promise<boolean> {
  const forgotten = await tx`
    update users set stripe_customer_id = null,
      stripe_customer_generation = stripe_customer_generation + 1
    where id = ${userId} and stripe_customer_id = ${customerId}
    returning id`;
  return forgotten.length > 0;
}

/**
 * Recompute the person's current subscription and tier from all their subscriptions. The row is
 * written only when that changes: most events leave it as it was, and an unchanged row then costs
 * no new row version.
 */
export async function refreshPerson(tx: Tx, userId: number): Promise<void> {
  await tx`
    with chosen as (
      select stripe_subscription_id, status, trial_end_at, past_due_since, ended_at
      from subscriptions where user_id = ${userId}
      order by (ended_at is null) desc, (duplicate_of is null) desc,
        case when status in ('trialing', 'active') then 0 when status = 'past_due' then 1 else 2 end,
        ended_at desc nulls first, coalesce(started_at, last_event_at), stripe_subscription_id
      limit 1
    ),
    projection as (
      select
        case when ended_at is null and status in ('trialing', 'active', 'past_due')
          then 'paid' else 'free' end as tier,
        case when ended_at is null then stripe_subscription_id end as subscription_id,
        status,
        case when ended_at is null and status = 'trialing' then trial_end_at end as trial_end_at,
        case when ended_at is null then past_due_since end as past_due_since
      from chosen
    )
    update users set
      tier = projection.tier,
      stripe_subscription_id = projection.subscription_id,
      stripe_subscription_status = projection.status,
      stripe_trial_end_at = projection.trial_end_at,
      stripe_past_due_since = projection.past_due_since
    from projection
    where users.id = ${userId}
      and (users.tier, users.stripe_subscription_id, users.stripe_subscription_status,
           users.stripe_trial_end_at, users.stripe_past_due_since)
        is distinct from (projection.tier, projection.subscription_id, projection.status,
                          projection.trial_end_at, projection.past_due_since)`;
}

/** Set where the person's credit runs until; the credit ledger (`grantCredit`) decides it. */
export async function setCreditUntil(tx: Tx, userId: number, until: Date): Promise<void> {
  await tx`update users set credit_until = ${until} where id = ${userId}`;
}
