/**
 * The person's billing state and who may read paid content.
 *
 * `users.tier`, `stripe_customer_id`, `stripe_subscription_id`, `stripe_subscription_status`,
 * `stripe_trial_end_at` and `credit_until` are written here and nowhere else (a test checks the
 * source), and `hasPaidAccess` is the one rule every page, API answer and operator command uses.
 * Writers lock the person first (`lockPerson`), so changes to one person apply one at a time
 * whatever order Stripe's events and a person's own requests arrive in.
 */
import type { Queryable, Tx } from "../db/client.ts";
import type { User } from "../auth/users.ts";
import { PAID_STATUSES } from "./plans.ts";
import type { SubscriptionChange, SubscriptionSnapshot } from "./subscriptions.ts";

/** Paid access, the one rule used everywhere: a paid subscription, or credit still running. */
export function hasPaidAccess(
  user: { tier: string; creditUntil: Date | null },
  now: Date,
): boolean {
  return user.tier === "paid" || (user.creditUntil !== null && user.creditUntil > now);
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
 * one stored.
 */
export async function setStripeCustomer(
  db: Queryable,
  userId: number,
  customerId: string,
): Promise<string> {
  const [stored] = await db<{ stripeCustomerId: string }[]>`
    update users set stripe_customer_id = coalesce(stripe_customer_id, ${customerId})
    where id = ${userId}
    returning stripe_customer_id`;
  return stored.stripeCustomerId;
}

export type Projection = "granted" | "revoked" | "status_only" | "not_current";

/**
 * Project an applied subscription state onto its person, who is locked: trialing and active grant
 * paid; other live statuses keep the tier until deletion; deletion of the person's current
 * subscription revokes, and deletion of an older one changes nothing.
 */
export async function projectSubscription(
  tx: Tx,
  user: User,
  snapshot: SubscriptionSnapshot,
  change: SubscriptionChange,
): Promise<Projection> {
  const isCurrent = user.stripeSubscriptionId === snapshot.id;
  if (change === "deleted") {
    if (!isCurrent) return "not_current";
    await tx`
      update users set tier = 'free', stripe_subscription_id = null, stripe_trial_end_at = null,
        stripe_subscription_status = ${snapshot.status}
      where id = ${user.id}`;
    return "revoked";
  }
  if (PAID_STATUSES.has(snapshot.status)) {
    await markPaid(tx, user.id, snapshot.id, snapshot.status, snapshot.trialEnd);
    return "granted";
  }
  if (!isCurrent && user.stripeSubscriptionId !== null) return "not_current";
  await tx`
    update users set stripe_subscription_id = ${snapshot.id},
      stripe_subscription_status = ${snapshot.status}
    where id = ${user.id}`;
  return "status_only";
}

/**
 * Paid tier on `subscriptionId`, with its status when known. A trial keeps its end date for the
 * settings page; any other status clears it.
 */
export async function markPaid(
  tx: Tx,
  userId: number,
  subscriptionId: string,
  status: string | null,
  trialEnd: Date | null,
): Promise<void> {
  await tx`
    update users set tier = 'paid', stripe_subscription_id = ${subscriptionId},
      stripe_subscription_status = ${status},
      stripe_trial_end_at = ${status === "trialing" ? trialEnd : null}
    where id = ${userId}`;
}

/** Set where the person's credit runs until; the credit ledger (`grantCredit`) decides it. */
export async function setCreditUntil(tx: Tx, userId: number, until: Date): Promise<void> {
  await tx`update users set credit_until = ${until} where id = ${userId}`;
}
