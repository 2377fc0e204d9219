/**
 * Test controls: what tests and demos can make happen that a real Stripe account only does with
 * time or bad luck — the clock moving on, a declined card, a refund, a duplicate or late webhook.
 * The same controls are served over HTTP under `/_sim` (see `pages/dashboard.tsx`).
 */
import { advanceSubscription, failNextPayment, refundLastCharge } from "./billing.ts";
import { SimulatorError } from "./errors.ts";
import type { SimulatedEvent } from "./events.ts";
import type { Charge, Subscription } from "./objects.ts";
import type { Store } from "./store.ts";
import type { DeliveryAttempt, WebhookSender } from "./webhooks.ts";

export interface TestControls {
  /**
   * Move the clock to `to` (default: the subscription's next trial end or period end) and apply
   * what happens on the way: the trial converts, periods renew, a subscription set to cancel at
   * period end is deleted.
   */
  advanceSubscription(subscriptionId: string, options?: { to?: Date }): Subscription;
  /** Decline the subscription's next payment: `invoice.payment_failed`, status `past_due`. */
  failNextPayment(subscriptionId: string): void;
  /** Refund the subscription's latest charge in full: `charge.refunded`. */
  refundLastCharge(subscriptionId: string): Charge;
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
  function subscription(id: string): Subscription {
    const found = store.subscriptions.get(id);
    if (!found) throw new SimulatorError(`No such subscription: '${id}'`);
    return found;
  }

  return {
    advanceSubscription: (id, options = {}) =>
      structuredClone(advanceSubscription(store, subscription(id), options.to)),
    failNextPayment: (id) => failNextPayment(store, subscription(id)),
    refundLastCharge: (id) => structuredClone(refundLastCharge(store, subscription(id))),
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
