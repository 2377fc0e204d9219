/**
 * One handler per Stripe event type, named after it. Each runs inside the webhook's transaction
 * (under a savepoint) with the person's row locked; what it reads from the event is validated
 * first, so a malformed event is a handler error, never a half-applied change.
 */
import type Stripe from "stripe";
import { z } from "zod";
import type { Tx } from "../db/client.ts";
import type { Logger } from "../log.ts";
import type { User } from "../auth/users.ts";
import { convertReferral } from "../referrals/conversion.ts";
import {
  applyToUser,
  grantPaid,
  knownStatus,
  recordedAt,
  recordSubscription,
  type SubscriptionChange,
  subscriptionEnded,
  type SubscriptionSnapshot,
} from "./subscriptions.ts";

export interface StripeEventEnvelope {
  id: string;
  type: string;
  created: number;
  data: { object: Record<string, unknown> };
}

export interface EventContext {
  tx: Tx;
  event: StripeEventEnvelope;
  log: Logger;
  now: Date;
  /** For asking Stripe what is current when events alone cannot tell; null if unavailable. */
  stripe: Stripe | null;
}

export type EventHandler = (ctx: EventContext) => Promise<void>;

const stripeId = z.string().min(1).max(255);
/** Expandable references arrive as an id or as the object itself. */
const reference = z.union([stripeId, z.object({ id: stripeId })]).transform((ref) =>
  typeof ref === "string" ? ref : ref.id
);
const unixSeconds = z.number().int().nonnegative();

const SubscriptionObject = z.object({
  id: stripeId,
  customer: reference,
  status: z.string().min(1),
  trial_end: unixSeconds.nullable().optional(),
  cancel_at_period_end: z.boolean().optional(),
  items: z.object({
    data: z.array(z.object({ price: reference.nullable().optional() })),
  }).optional(),
});

const CheckoutSessionObject = z.object({
  id: stripeId,
  client_reference_id: z.string().nullable().optional(),
  customer: reference.nullable().optional(),
  subscription: reference.nullable().optional(),
});

export const InvoiceObject = z.object({
  id: stripeId,
  customer: reference,
  amount_paid: z.number().int().nonnegative(),
  billing_reason: z.string().nullable().optional(),
  parent: z.object({
    subscription_details: z.object({ subscription: reference.nullable().optional() }).nullable()
      .optional(),
  }).nullable().optional(),
});

/** The person an event is about, row-locked until the transaction ends. */
export async function findUserForEvent(
  tx: Tx,
  keys: { userId?: string | null; customerId?: string | null },
): Promise<User | null> {
  if (keys.userId && /^\d{1,15}$/.test(keys.userId)) {
    const [user] = await tx<User[]>`select * from users where id = ${
      Number(keys.userId)
    } for update`;
    if (user) return user;
  }
  if (keys.customerId) {
    const [user] = await tx<User[]>`
      select * from users where stripe_customer_id = ${keys.customerId} for update`;
    if (user) return user;
  }
  return null;
}

function userNotFound(ctx: EventContext, customerId: string | null | undefined) {
  ctx.log.warn("stripe.user_not_found", {
    event_id: ctx.event.id,
    event_type: ctx.event.type,
    customer_id: customerId ?? null,
  });
}

export async function checkoutSessionCompleted(ctx: EventContext): Promise<void> {
  const session = CheckoutSessionObject.parse(ctx.event.data.object);
  const user = await findUserForEvent(ctx.tx, {
    userId: session.client_reference_id,
    customerId: session.customer,
  });
  if (!user) return userNotFound(ctx, session.customer);
  if (session.customer && !user.stripeCustomerId) {
    await ctx.tx`update users set stripe_customer_id = ${session.customer} where id = ${user.id}`;
  }
  if (!session.subscription) return;
  if (await subscriptionEnded(ctx.tx, session.subscription)) {
    ctx.log.info("stripe.stale_event", { event_id: ctx.event.id, reason: "subscription ended" });
    return;
  }
  // The session does not say whether the subscription is trialing; the subscription's own
  // event does, and may have arrived already.
  const status = await knownStatus(ctx.tx, session.subscription) ??
    (user.stripeSubscriptionId === session.subscription ? user.stripeSubscriptionStatus : null);
  await grantPaid(
    ctx.tx,
    user.id,
    session.subscription,
    status,
    status === "trialing" ? user.stripeTrialEndAt : null,
  );
}

function subscriptionHandler(change: SubscriptionChange): EventHandler {
  return async (ctx) => {
    const subscription = SubscriptionObject.parse(ctx.event.data.object);
    const user = await findUserForEvent(ctx.tx, { customerId: subscription.customer });
    if (!user) return userNotFound(ctx, subscription.customer);
    const eventCreatedAt = new Date(ctx.event.created * 1000);
    let snapshot = snapshotOf(subscription, change);
    // Two updates stamped with the same second cannot be ordered by their events (Stripe
    // delivers them in any order): ask Stripe for the subscription as it is now.
    if (
      change === "updated" && ctx.stripe &&
      await recordedAt(ctx.tx, subscription.id, eventCreatedAt)
    ) {
      const current = SubscriptionObject.parse(
        await ctx.stripe.subscriptions.retrieve(subscription.id),
      );
      snapshot = snapshotOf(current, change);
    }
    const stored = await recordSubscription(ctx.tx, user.id, snapshot, change, eventCreatedAt);
    if (!stored) {
      ctx.log.info("stripe.stale_event", {
        event_id: ctx.event.id,
        subscription_id: subscription.id,
        reason: "an equal or newer state is already recorded, or the subscription ended",
      });
      return;
    }
    const effect = await applyToUser(ctx.tx, user, snapshot, change);
    ctx.log.info("stripe.subscription_applied", {
      event_id: ctx.event.id,
      user_id: user.id,
      subscription_id: subscription.id,
      status: snapshot.status,
      effect,
    });
  };
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

export const customerSubscriptionCreated = subscriptionHandler("created");
export const customerSubscriptionUpdated = subscriptionHandler("updated");
export const customerSubscriptionDeleted = subscriptionHandler("deleted");

/**
 * The referral trigger: the first invoice with money in it (`amount_paid > 0`). A £0 trial
 * invoice is not a payment; renewals and replays find the referral already converted.
 */
export async function invoicePaid(ctx: EventContext): Promise<void> {
  const invoice = InvoiceObject.parse(ctx.event.data.object);
  if (invoice.amount_paid === 0) return;
  const user = await findUserForEvent(ctx.tx, { customerId: invoice.customer });
  if (!user) return userNotFound(ctx, invoice.customer);
  const conversion = await convertReferral(ctx.tx, user, { eventId: ctx.event.id, now: ctx.now });
  if (conversion) {
    ctx.log.info("referral.converted", {
      event_id: ctx.event.id,
      referral_id: conversion.referralId,
      buyer_id: user.id,
      referrer_id: conversion.referrerId,
    });
  }
}

/** Recorded in the audit table; access does not change until the subscription does. */
export async function auditOnly(_ctx: EventContext): Promise<void> {}

/**
 * A Map, not an object literal: the event type comes from outside, and a plain object would
 * "find" handlers such as `constructor` or `toString` on its prototype.
 */
export const EVENT_HANDLERS: ReadonlyMap<string, EventHandler> = new Map([
  ["checkout.session.completed", checkoutSessionCompleted],
  ["customer.subscription.created", customerSubscriptionCreated],
  ["customer.subscription.updated", customerSubscriptionUpdated],
  ["customer.subscription.deleted", customerSubscriptionDeleted],
  ["invoice.paid", invoicePaid],
  ["invoice.payment_failed", auditOnly],
  ["charge.refunded", auditOnly],
]);
