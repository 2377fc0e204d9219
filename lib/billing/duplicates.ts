/**
 * Never two live subscriptions. Checkout refuses a second one, but two tabs paid in the same
 * second can still make two: then the newer is cancelled at once and its payments refunded in
 * full, exactly once — marked here, under the person's lock, and done by a durable job whose
 * Stripe calls carry idempotency keys.
 */
import type Stripe from "stripe";
import type { Tx } from "../db/client.ts";
import type { Logger } from "../log.ts";
import { enqueue, type Job } from "../jobs/queue.ts";
import type { JobServices } from "../jobs/runner.ts";
import { requireStripe } from "./stripe_calls.ts";
import { readAtOnce } from "../db/reads.ts";
import {
  markDuplicate,
  markDuplicateResolved,
  type RecordedSubscription,
  subscriptionRead,
  subscriptionsOf,
  unmarkDuplicate,
} from "./subscriptions.ts";

export const CANCEL_DUPLICATE_JOB = "cancel_duplicate_subscription";

/** Statuses of a subscription that has not ended: one of these is all a person may have. */
const LIVE = new Set(["trialing", "active", "past_due", "unpaid", "paused", "incomplete"]);

/** Whether a recorded subscription counts towards "one live subscription per person". */
export function isLive(subscription: Pick<RecordedSubscription, "endedAt" | "status">): boolean {
  return subscription.endedAt === null && LIVE.has(subscription.status);
}

/**
 * If the person (locked) has more than one live subscription, keep the oldest and mark each newer
 * one for cancellation and refund. Returns the ids marked by this call.
 */
export async function resolveDuplicates(
  tx: Tx,
  userId: number,
  now: Date,
  log: Logger,
): Promise<string[]> {
  const live = (await subscriptionsOf(tx, userId)).filter((s) =>
    isLive(s) && s.duplicateOf === null
  );
  if (live.length < 2) return [];
  const [kept, ...newer] = live;
  const marked: string[] = [];
  for (const duplicate of newer) {
    if (!await markDuplicate(tx, duplicate.stripeSubscriptionId, kept.stripeSubscriptionId)) {
      continue;
    }
    await enqueue(tx, {
      kind: CANCEL_DUPLICATE_JOB,
      key: duplicate.stripeSubscriptionId,
      payload: {
        subscriptionId: duplicate.stripeSubscriptionId,
        keptId: kept.stripeSubscriptionId,
      },
    }, now);
    marked.push(duplicate.stripeSubscriptionId);
    log.warn("billing.duplicate_subscription", {
      user_id: userId,
      subscription_id: duplicate.stripeSubscriptionId,
      kept_subscription_id: kept.stripeSubscriptionId,
    });
  }
  return marked;
}

/**
 * The job: cancel the duplicate in Stripe now, refund every payment it took, record it. If the
 * subscription it duplicated has ended meanwhile while this one has not, this one is the person's
 * only subscription: it stays.
 */
export async function cancelDuplicateSubscription(services: JobServices, job: Job): Promise<void> {
  const subscriptionId = String(job.payload.subscriptionId);
  // One statement: both as of the same moment.
  const [duplicate, kept] = await readAtOnce(services.db, [
    subscriptionRead(subscriptionId),
    subscriptionRead(String(job.payload.keptId)),
  ]);
  if (kept?.endedAt && duplicate && !duplicate.endedAt) {
    await unmarkDuplicate(services.db, subscriptionId);
    services.log.info("billing.duplicate_kept", {
      subscription_id: subscriptionId,
      reason: "the subscription it duplicated has ended",
    });
    return;
  }
  const stripe = requireStripe(services);
  await cancelNow(stripe, subscriptionId);
  let refunded = 0;
  const invoices = await stripe.invoices.list({ subscription: subscriptionId, status: "paid" });
  for (const invoice of invoices.data) {
    if (invoice.amount_paid === 0) continue;
    const payments = await stripe.invoicePayments.list({ invoice: invoice.id! });
    for (const payment of payments.data) {
      const charge = payment.payment.charge;
      if (payment.status !== "paid" || !charge) continue;
      const chargeId = typeof charge === "string" ? charge : charge.id;
      const refund = await stripe.refunds.create(
        { charge: chargeId },
        { idempotencyKey: `read-markets-refund-duplicate-${chargeId}` },
      );
      refunded += refund.amount;
    }
  }
  await markDuplicateResolved(services.db, subscriptionId, refunded, services.now());
  services.log.info("billing.duplicate_cancelled", {
    subscription_id: subscriptionId,
    kept_subscription_id: String(job.payload.keptId),
    refunded,
  });
}

async function cancelNow(stripe: Stripe, subscriptionId: string): Promise<void> {
  const current = await stripe.subscriptions.retrieve(subscriptionId);
  if (current.status === "canceled" || current.status === "incomplete_expired") return;
  await stripe.subscriptions.cancel(subscriptionId, {}, {
    idempotencyKey: `read-markets-cancel-duplicate-${subscriptionId}`,
  });
}
