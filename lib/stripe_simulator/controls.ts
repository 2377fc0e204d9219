/**
 * Test controls: what tests and demos can make happen that a real Stripe account only does with
 * time or bad luck — the clock moving on, declined cards, a removed card, refunds and disputes, a
 * bank debit settling, an API that answers 429, a duplicate or late webhook — and the account's
 * billing settings. The same controls are served over HTTP under `/_sim` (see
 * `pages/dashboard.tsx`).
 */
import { failPayments } from "./billing.ts";
import { advanceClock, advanceSubscription, catchUp } from "./clock.ts";
import { SimulatorError } from "./errors.ts";
import type { SimulatedEvent } from "./events.ts";
import type { Charge, CheckoutSession, Subscription } from "./objects.ts";
import type { Dispute, DisputeReason, PaymentMethod } from "./payment_objects.ts";
import {
  closeDispute,
  disputeCharge,
  refundCharge,
  removePaymentMethod,
  settleDelayedPayment,
} from "./payments.ts";
import type { SimulatorSettings, Store } from "./store.ts";
import type { DeliveryAttempt, WebhookSender } from "./webhooks.ts";

export interface TestControls {
  /**
   * Move the clock forward to `to`, applying in time order everything due on the way for every
   * subscription and session: session expiry, `trial_will_end`, `invoice.upcoming`, trial ends,
   * renewals, payment retries, cancellation at period end.
   */
  advanceClock(to: Date): void;
  /**
   * Move the clock to `to` (default: the subscription's next trial end or period end), applying
   * everything due on the way, as `advanceClock` does.
   */
  advanceSubscription(subscriptionId: string, options?: { to?: Date }): Subscription;
  /** Decline the subscription's next payment attempt. */
  failNextPayment(subscriptionId: string): void;
  /**
   * Decline the subscription's next `count` payment attempts, or every attempt until the
   * customer's card is updated (in the portal).
   */
  failPayments(subscriptionId: string, count: number | "until_card_updated"): void;
  /** Detach the customer's card: `payment_method.detached`; payments fail until a new one. */
  removePaymentMethod(customerId: string): PaymentMethod;
  /** Refund what is left of the subscription's latest charge: `charge.refunded`. */
  refundLastCharge(subscriptionId: string): Charge;
  /** The card's bank disputes a charge: `charge.dispute.created`. */
  disputeCharge(chargeId: string, options?: { reason?: DisputeReason }): Dispute;
  /** The dispute is decided: `charge.dispute.closed`. */
  closeDispute(disputeId: string, status: "won" | "lost"): Dispute;
  /** The bank debit of a checkout settles, or fails. */
  settleDelayedPayment(sessionId: string, outcome: "succeeded" | "failed"): CheckoutSession;
  /** The next `count` API requests answer `status` (429: rate limited; 500: Stripe failed). */
  /**
   * The next `count` API requests fail with `status` — only those whose method and path start
   * with `match` (e.g. `"POST /v1/subscriptions/"`) when it is given.
   */
  failNextRequests(options: { count: number; status?: 429 | 500; match?: string }): void;
  /** Change the account's billing settings; answers all of them. */
  configure(settings: Partial<SimulatorSettings>): SimulatorSettings;
  /** Deliver an event again, as Stripe sometimes does; resolves after the first attempt. */
  redeliver(eventId: string): Promise<void>;
  /** Keep new events back instead of delivering them. */
  holdDeliveries(): void;
  heldEvents(): SimulatedEvent[];
  /** Deliver these held events one after another, in this order. */
  deliverHeld(eventIds: readonly string[]): Promise<void>;
  /** Stop holding; deliver whatever is still held in the order it happened. */
  resumeDeliveries(): Promise<void>;
  /** Resolves once no delivery is in flight or waiting to be retried. */
  settled(): Promise<void>;
  deliveryAttempts(): DeliveryAttempt[];
  /** Every event so far, oldest first. */
  events(): SimulatedEvent[];
}

export function createTestControls(store: Store, sender: WebhookSender): TestControls {
  /** Controls act on the present: whatever the clock has passed happens first. */
  function found<T>(objects: Map<string, T>, noun: string, id: string): T {
    catchUp(store);
    const object = objects.get(id);
    if (!object) throw new SimulatorError(`No such ${noun}: '${id}'`);
    return object;
  }
  const subscription = (id: string) => found(store.subscriptions, "subscription", id);

  return {
    advanceClock(to) {
      catchUp(store);
      advanceClock(store, to);
    },
    advanceSubscription: (id, options = {}) =>
      structuredClone(advanceSubscription(store, subscription(id), options.to)),
    failNextPayment: (id) => failPayments(store, subscription(id), 1),
    failPayments: (id, count) =>
      failPayments(store, subscription(id), count === "until_card_updated" ? Infinity : count),
    removePaymentMethod: (id) =>
      structuredClone(removePaymentMethod(store, found(store.customers, "customer", id))),
    refundLastCharge(id) {
      const charge = lastCharge(store, subscription(id));
      refundCharge(store, charge, {});
      return structuredClone(charge);
    },
    disputeCharge: (id, options = {}) =>
      structuredClone(
        disputeCharge(store, found(store.charges, "charge", id), options.reason ?? "fraudulent"),
      ),
    closeDispute(id, status) {
      if (status !== "won" && status !== "lost") {
        throw new SimulatorError(`A dispute closes as "won" or "lost", not "${status}".`);
      }
      return structuredClone(closeDispute(store, found(store.disputes, "dispute", id), status));
    },
    settleDelayedPayment(id, outcome) {
      if (outcome !== "succeeded" && outcome !== "failed") {
        throw new SimulatorError(
          `A bank debit settles as "succeeded" or "failed", not "${outcome}".`,
        );
      }
      catchUp(store);
      return structuredClone(settleDelayedPayment(store, id, outcome));
    },
    failNextRequests({ count, status = 429, match }) {
      if (!Number.isInteger(count) || count < 0) {
        throw new SimulatorError("count must be a whole number of requests.");
      }
      if (status !== 429 && status !== 500) {
        throw new SimulatorError(`status must be 429 or 500, not ${status}.`);
      }
      store.requestFailures = { remaining: count, status, match: match || null };
    },
    configure(settings) {
      const next = { ...store.settings, ...definedSettings(settings) };
      checkSettings(next);
      store.settings = next;
      return structuredClone(next);
    },
    async redeliver(eventId) {
      const event = store.events.get(eventId);
      if (!event) throw new SimulatorError(`No such event: '${eventId}'`);
      if (!sender.endpoint) throw new SimulatorError("No webhook endpoint is set.");
      await sender.redeliver(event);
    },
    holdDeliveries: () => sender.hold(),
    heldEvents: () => sender.held(),
    deliverHeld: (eventIds) => sender.deliverHeld(eventIds),
    resumeDeliveries: () => sender.resume(),
    settled: () => sender.settled(),
    deliveryAttempts: () => [...sender.attempts],
    events: () => [...store.events.values()],
  };
}

/** The newest charge on the subscription's invoices with something left to refund. */
function lastCharge(store: Store, subscription: Subscription): Charge {
  const charges = [...store.invoices.values()]
    .filter((invoice) => invoice.parent?.subscription_details?.subscription === subscription.id)
    .map((invoice) => store.charges.get(store.chargeOfInvoice.get(invoice.id) ?? ""))
    .filter((charge): charge is Charge => !!charge && !charge.refunded);
  const charge = charges.at(-1);
  if (!charge) {
    throw new SimulatorError(`Subscription ${subscription.id} has no charge left to refund.`);
  }
  return charge;
}

function definedSettings(settings: Partial<SimulatorSettings>): Partial<SimulatorSettings> {
  return Object.fromEntries(
    Object.entries(settings).filter(([, value]) => value !== undefined),
  ) as Partial<SimulatorSettings>;
}

export function checkSettings(settings: SimulatorSettings): void {
  const known = ["afterFailedRetries", "retrySchedule", "upcomingInvoiceDays"];
  const unknown = Object.keys(settings).filter((key) => !known.includes(key));
  if (unknown.length) throw new SimulatorError(`Unknown setting: ${unknown.join(", ")}`);
  if (!["cancel", "unpaid", "past_due"].includes(settings.afterFailedRetries)) {
    throw new SimulatorError(
      `afterFailedRetries must be "cancel", "unpaid" or "past_due", not ` +
        `"${settings.afterFailedRetries}".`,
    );
  }
  const schedule = settings.retrySchedule;
  if (
    !Array.isArray(schedule) || schedule.length > 8 ||
    !schedule.every((days) => Number.isInteger(days) && days >= 1 && days <= 60)
  ) {
    throw new SimulatorError(
      "retrySchedule must list up to 8 retries, each a whole number of days (1–60) after the " +
        "previous attempt.",
    );
  }
  const days = settings.upcomingInvoiceDays;
  if (!Number.isInteger(days) || days < 1 || days > 60) {
    throw new SimulatorError("upcomingInvoiceDays must be a whole number of days from 1 to 60.");
  }
}
