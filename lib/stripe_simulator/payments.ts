/**
 * What happens to money after a charge, and to the means of paying: refunds (whole or partial),
 * disputes opened and closed by the card's bank, a bank debit settling days after checkout, and
 * a customer's card being removed or replaced.
 */
import { emitUpdated } from "./billing.ts";
import { chargeInvoice, markPaid, subscriptionOf } from "./collection.ts";
import { invalidRequest, SimulatorError } from "./errors.ts";
import { type EventRequest, NO_REQUEST, previousAttributes } from "./events.ts";
import type { Charge, CheckoutSession, Customer, Metadata } from "./objects.ts";
import {
  type Dispute,
  disputeObject,
  type DisputeReason,
  type PaymentChoice,
  type PaymentMethod,
  paymentMethodObject,
  type Refund,
  refundObject,
  type RefundReason,
} from "./payment_objects.ts";
import { formatAmount } from "../format.ts";
import type { Store } from "./store.ts";

/**
 * Refund `amount` (default: all that is left) of a charge: `charge.refunded` with the new
 * `amount_refunded` (`refunded` only once nothing is left), then `refund.created`.
 */
export function refundCharge(
  store: Store,
  charge: Charge,
  input: { amount?: number; reason?: RefundReason; metadata?: Metadata },
  request: EventRequest = NO_REQUEST,
): Refund {
  const left = charge.amount - charge.amount_refunded;
  if (left === 0) {
    throw invalidRequest(
      `Charge ${charge.id} has already been refunded.`,
      undefined,
      "charge_already_refunded",
    );
  }
  const amount = input.amount ?? left;
  if (amount > left) {
    throw invalidRequest(
      `Refund amount (${
        formatAmount(amount, charge.currency)
      }) is greater than unrefunded amount on ` +
        `charge (${formatAmount(left, charge.currency)})`,
      "amount",
    );
  }
  const refund = refundObject({
    charge,
    amount,
    metadata: input.metadata ?? {},
    reason: input.reason ?? null,
    now: store.nowUnix(),
  });
  store.refunds.set(refund.id, refund);
  const before = structuredClone(charge);
  charge.amount_refunded += amount;
  charge.refunded = charge.amount_refunded === charge.amount;
  store.emit("charge.refunded", charge, {
    previousAttributes: previousAttributes(before, charge),
    request,
  });
  store.emit("refund.created", refund, { request });
  return refund;
}

/** The card's bank disputes the charge: `charge.dispute.created`, and the charge is disputed. */
export function disputeCharge(store: Store, charge: Charge, reason: DisputeReason): Dispute {
  if (charge.disputed) throw new SimulatorError(`Charge ${charge.id} is already disputed.`);
  if (charge.amount_refunded === charge.amount) {
    throw new SimulatorError(
      `Charge ${charge.id} was refunded in full; there is nothing to dispute.`,
    );
  }
  const dispute = disputeObject({ charge, reason, now: store.nowUnix() });
  store.disputes.set(dispute.id, dispute);
  charge.disputed = true;
  store.emit("charge.dispute.created", dispute);
  return dispute;
}

/** The bank decides: `charge.dispute.closed` with status `won` or `lost`. */
export function closeDispute(store: Store, dispute: Dispute, status: "won" | "lost"): Dispute {
  if (dispute.status === "won" || dispute.status === "lost") {
    throw new SimulatorError(`Dispute ${dispute.id} is already closed (${dispute.status}).`);
  }
  dispute.status = status;
  dispute.is_charge_refundable = false;
  store.emit("charge.dispute.closed", dispute);
  return dispute;
}

/** Detach the customer's default payment method: `payment_method.detached`. */
export function removePaymentMethod(store: Store, customer: Customer): PaymentMethod {
  const id = customer.invoice_settings.default_payment_method;
  const method = typeof id === "string" ? store.paymentMethods.get(id) : undefined;
  if (!method) throw new SimulatorError(`Customer ${customer.id} has no payment method.`);
  method.customer = null;
  customer.invoice_settings.default_payment_method = null;
  store.emit("payment_method.detached", method);
  return method;
}

/**
 * A new card becomes the customer's default (`payment_method.attached`, `customer.updated`),
 * and the declines queued for their subscriptions are over: the next attempt uses this card.
 */
export function attachNewCard(
  store: Store,
  customer: Customer,
  choice: PaymentChoice,
): PaymentMethod {
  const method = paymentMethodObject({ choice, customer, now: store.nowUnix() });
  store.paymentMethods.set(method.id, method);
  store.emit("payment_method.attached", method);
  const before = structuredClone(customer);
  customer.invoice_settings.default_payment_method = method.id;
  store.emit("customer.updated", customer, {
    previousAttributes: previousAttributes(before, customer),
  });
  for (const subscription of store.subscriptions.values()) {
    if (subscription.customer === customer.id) store.declines.delete(subscription.id);
  }
  return method;
}

/**
 * The bank debit taken at checkout settles. Succeeded: `invoice.paid`, the subscription turns
 * `active` (`customer.subscription.updated`), `checkout.session.async_payment_succeeded`.
 * Failed: `invoice.payment_failed`, the invoice is voided (`invoice.voided`), the subscription
 * ends `incomplete_expired` (`customer.subscription.deleted`), then
 * `checkout.session.async_payment_failed`.
 */
export function settleDelayedPayment(
  store: Store,
  sessionId: string,
  outcome: "succeeded" | "failed",
): CheckoutSession {
  const record = store.checkouts.get(sessionId);
  if (!record) throw new SimulatorError(`No such checkout session: '${sessionId}'`);
  const invoice = record.unsettledInvoice ? store.invoices.get(record.unsettledInvoice) : null;
  if (!invoice) {
    throw new SimulatorError(`Checkout session ${sessionId} has no bank debit waiting to settle.`);
  }
  const { session } = record;
  const subscription = store.subscriptions.get(subscriptionOf(invoice))!;
  record.unsettledInvoice = null;
  const now = store.nowUnix();
  const before = structuredClone(subscription);
  if (outcome === "succeeded") {
    const method = store.paymentMethods.get(
      store.customers.get(invoice.customer as string)?.invoice_settings
        .default_payment_method as string,
    );
    if (method) chargeInvoice(store, invoice, method, "Subscription creation");
    markPaid(invoice, now);
    store.emit("invoice.paid", invoice);
    subscription.status = "active";
    emitUpdated(store, before, subscription, NO_REQUEST);
    session.payment_status = "paid";
    store.emit("checkout.session.async_payment_succeeded", session);
  } else {
    store.emit("invoice.payment_failed", invoice);
    invoice.status = "void";
    invoice.amount_remaining = 0;
    invoice.status_transitions.voided_at = now;
    store.emit("invoice.voided", invoice);
    subscription.status = "incomplete_expired";
    subscription.ended_at = now;
    store.emit("customer.subscription.deleted", subscription);
    store.emit("checkout.session.async_payment_failed", session);
  }
  return session;
}
