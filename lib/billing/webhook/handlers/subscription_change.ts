/**
 * What the three `customer.subscription.*` events share: validate the subscription, lock its
 * person, record the state if it is newer than what we know, and project it onto the person.
 */
import type { z } from "zod";
import {
  recordedAt,
  recordSubscription,
  type SubscriptionChange,
  type SubscriptionSnapshot,
} from "../../subscriptions.ts";
import { lockPerson, projectSubscription } from "../../entitlement.ts";
import { SubscriptionObject } from "./objects.ts";
import { type EventContext, type EventHandler, personNotFound } from "./context.ts";

export function subscriptionChange(change: SubscriptionChange): EventHandler {
  return async (ctx) => {
    const subscription = SubscriptionObject.parse(ctx.event.data.object);
    const user = await lockPerson(ctx.tx, { customerId: subscription.customer });
    if (!user) return personNotFound(ctx, subscription.customer);
    const eventCreatedAt = new Date(ctx.event.created * 1000);
    const snapshot = await settledSnapshot(ctx, subscription, change, eventCreatedAt);
    const stored = await recordSubscription(ctx.tx, user.id, snapshot, change, eventCreatedAt);
    if (!stored) {
      ctx.log.info("stripe.stale_event", {
        event_id: ctx.event.id,
        subscription_id: subscription.id,
        reason: "an equal or newer state is already recorded, or the subscription ended",
      });
      return;
    }
    const effect = await projectSubscription(ctx.tx, user, snapshot, change);
    ctx.log.info("stripe.subscription_applied", {
      event_id: ctx.event.id,
      user_id: user.id,
      subscription_id: subscription.id,
      status: snapshot.status,
      effect,
    });
  };
}

/**
 * Two updates stamped with the same second cannot be ordered by their events (Stripe delivers
 * them in any order): then ask Stripe for the subscription as it is now.
 */
async function settledSnapshot(
  ctx: EventContext,
  subscription: z.infer<typeof SubscriptionObject>,
  change: SubscriptionChange,
  eventCreatedAt: Date,
): Promise<SubscriptionSnapshot> {
  if (
    change === "updated" && ctx.stripe &&
    await recordedAt(ctx.tx, subscription.id, eventCreatedAt)
  ) {
    const current = SubscriptionObject.parse(
      await ctx.stripe.subscriptions.retrieve(subscription.id),
    );
    return snapshotOf(current, change);
  }
  return snapshotOf(subscription, change);
}

function snapshotOf(
  subscription: z.infer<typeof SubscriptionObject>,
  change: SubscriptionChange,
): SubscriptionSnapshot {
  return {
    id: subscription.id,
    status: change === "deleted" ? "canceled" : subscription.status,
    trialEnd: subscription.trial_end ? new Date(subscription.trial_end * 1000) : null,
    cancelAtPeriodEnd: subscription.cancel_at_period_end ?? false,
    priceId: subscription.items?.data[0]?.price ?? null,
  };
}
