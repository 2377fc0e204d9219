/**
 * A subscriber changing their own subscription in the app, each in one clear step: cancel at the
 * end of the period (a trial that is cancelled is never charged), resume before then, and switch
 * from monthly to annual with Stripe's proration, previewed first. What changed is recorded from
 * Stripe's webhook like any other change; these only ask Stripe.
 */
import type Stripe from "stripe";
import type { Services } from "../services.ts";
import type { User } from "../auth/users.ts";
import type { Queryable } from "../db/client.ts";
import { DomainError } from "../domain_error.ts";
import { priceFor } from "./plans.ts";
import { type RecordedSubscription, subscriptionRead } from "./subscriptions.ts";
import { known, mapRead, type Read, readOne } from "../db/reads.ts";
import { callStripe, requireStripe } from "./stripe_calls.ts";

type ManageServices = Pick<Services, "config" | "db" | "stripe" | "log" | "now">;

/** The person's current subscription, if it has not ended. */
export function liveSubscriptionRead(user: User): Read<RecordedSubscription | null> {
  if (!user.stripeSubscriptionId) return known(null);
  return mapRead(
    subscriptionRead(user.stripeSubscriptionId),
    (subscription) => subscription?.endedAt === null ? subscription : null,
  );
}

export async function liveSubscriptionOf(
  db: Queryable,
  user: User,
): Promise<RecordedSubscription | null> {
  return await readOne(db, liveSubscriptionRead(user));
}

/** Cancel at the end of the current period (or trial), or undo that. */
export async function setCancelAtPeriodEnd(
  services: ManageServices,
  user: User,
  cancel: boolean,
): Promise<void> {
  const stripe = requireStripe(services);
  const subscription = await requireLiveSubscription(services, user);
  await callStripe(
    services.log,
    "stripe.cancel_at_period_end_failed",
    user.id,
    () =>
      stripe.subscriptions.update(subscription.stripeSubscriptionId, {
        cancel_at_period_end: cancel,
      }),
  );
  services.log.info(cancel ? "billing.cancel_requested" : "billing.resumed", {
    user_id: user.id,
    subscription_id: subscription.stripeSubscriptionId,
  });
}

export interface UpgradePreview {
  /** Charged today: the annual price less the unused part of the current month. */
  dueToday: number;
  currency: string;
  /** The moment the preview was priced at; the upgrade uses it, so the charge is the same. */
  prorationDate: number;
}

/** What switching to annual would charge today, from Stripe's own invoice preview. */
export async function previewUpgrade(
  services: ManageServices,
  user: User,
): Promise<UpgradePreview> {
  const stripe = requireStripe(services);
  const { subscription, itemId } = await upgradable(services, user, stripe);
  const prorationDate = Math.floor(services.now().getTime() / 1000);
  const preview = await callStripe(
    services.log,
    "stripe.upgrade_preview_failed",
    user.id,
    () =>
      stripe.invoices.createPreview({
        customer: user.stripeCustomerId!,
        subscription: subscription.stripeSubscriptionId,
        subscription_details: {
          items: [{ id: itemId, price: priceFor(services.config, "annual") }],
          proration_behavior: "always_invoice",
          proration_date: prorationDate,
        },
      }),
  );
  return { dueToday: preview.amount_due, currency: preview.currency, prorationDate };
}

/** Switch to annual now; Stripe invoices the prorated difference at once. */
export async function upgradeToAnnual(
  services: ManageServices,
  user: User,
  prorationDate: number | null,
): Promise<void> {
  const stripe = requireStripe(services);
  const { subscription, itemId } = await upgradable(services, user, stripe);
  const annual = priceFor(services.config, "annual");
  await callStripe(
    services.log,
    "stripe.upgrade_failed",
    user.id,
    () =>
      stripe.subscriptions.update(subscription.stripeSubscriptionId, {
        items: [{ id: itemId, price: annual }],
        proration_behavior: "always_invoice",
        ...(prorationDate ? { proration_date: prorationDate } : {}),
      }, {
        // A double click (or a retry) switches once.
        idempotencyKey: `read-markets-upgrade-${subscription.stripeSubscriptionId}-to-${annual}`,
      }),
  );
  services.log.info("billing.upgraded", {
    user_id: user.id,
    subscription_id: subscription.stripeSubscriptionId,
  });
}

/** A monthly subscription in good standing, not set to end, and its item's id. */
async function upgradable(services: ManageServices, user: User, stripe: Stripe) {
  const subscription = await requireLiveSubscription(services, user);
  if (subscription.priceId !== priceFor(services.config, "monthly")) {
    throw new DomainError("conflict", "not_monthly", "Only a monthly plan can switch to annual");
  }
  if (subscription.status !== "active" || subscription.cancelAtPeriodEnd) {
    throw new DomainError(
      "conflict",
      "cannot_upgrade_now",
      subscription.cancelAtPeriodEnd
        ? "Your subscription is set to end: resume it first to switch to annual"
        : "Your subscription can switch to annual once its payments are up to date",
    );
  }
  const current = await callStripe(
    services.log,
    "stripe.subscription_fetch_failed",
    user.id,
    () => stripe.subscriptions.retrieve(subscription.stripeSubscriptionId),
  );
  return { subscription, itemId: current.items.data[0].id };
}

async function requireLiveSubscription(
  services: ManageServices,
  user: User,
): Promise<RecordedSubscription> {
  const subscription = await liveSubscriptionOf(services.db, user);
  if (!subscription) {
    throw new DomainError("not_found", "no_subscription", "You have no subscription to change");
  }
  return subscription;
}
