/**
 * Collecting an invoice: charging the customer's default payment method, recording the charge,
 * and what a failure leads to — a retry on the account's schedule, and once the retries are
 * spent, the account's setting (cancel, unpaid, or leave it past due). Declines a test queued
 * (`failPayments`) and a customer without a payment method fail an attempt the same way.
 */
import { type EventRequest, NO_REQUEST, previousAttributes } from "./events.ts";
import {
  type BillingReason,
  chargeObject,
  type Invoice,
  type InvoiceLineInput,
  invoiceObject,
  type Subscription,
} from "./objects.ts";
import { invoicePaymentObject, type PaymentMethod } from "./payment_objects.ts";
import { DAY_SECONDS } from "./periods.ts";
import type { Store } from "./store.ts";

export function createInvoice(
  store: Store,
  subscription: Subscription,
  input: {
    billingReason: BillingReason;
    lines: InvoiceLineInput[];
    period: { start: number; end: number };
  },
): Invoice {
  const customer = store.customers.get(subscription.customer as string)!;
  const invoice = invoiceObject({
    subscription,
    customer,
    billingReason: input.billingReason,
    lines: input.lines,
    period: input.period,
    now: store.nowUnix(),
  });
  // Whatever credit the invoice used (or, for a credit note of an invoice, left) is now the
  // customer's balance.
  customer.balance = invoice.ending_balance ?? 0;
  store.invoices.set(invoice.id, invoice);
  subscription.latest_invoice = invoice.id;
  return invoice;
}

export function defaultPaymentMethod(store: Store, customerId: string): PaymentMethod | null {
  const id = store.customers.get(customerId)?.invoice_settings.default_payment_method;
  return typeof id === "string" ? store.paymentMethods.get(id) ?? null : null;
}

export function subscriptionOf(invoice: Invoice): string {
  return invoice.parent!.subscription_details!.subscription as string;
}

/**
 * One payment attempt. £0 needs no payment; otherwise the customer's default payment method is
 * charged unless a decline is queued or there is no payment method.
 */
export function attemptPayment(store: Store, invoice: Invoice, description: string): boolean {
  const now = store.nowUnix();
  invoice.attempted = true;
  if (invoice.amount_due > 0) {
    invoice.attempt_count += 1;
    const subscriptionId = subscriptionOf(invoice);
    const declines = store.declines.get(subscriptionId) ?? 0;
    if (declines > 0) {
      if (declines === 1) store.declines.delete(subscriptionId);
      else store.declines.set(subscriptionId, declines - 1);
      return false;
    }
    const method = defaultPaymentMethod(store, invoice.customer as string);
    if (!method) return false;
    chargeInvoice(store, invoice, method, description);
  }
  markPaid(invoice, now);
  return true;
}

/** A charge for the whole amount due, linked to the invoice by an invoice payment. */
export function chargeInvoice(
  store: Store,
  invoice: Invoice,
  method: PaymentMethod,
  description: string,
): void {
  const now = store.nowUnix();
  const customer = store.customers.get(invoice.customer as string)!;
  const charge = chargeObject({ invoice, customer, now, description, paymentMethod: method });
  store.charges.set(charge.id, charge);
  store.chargeOfInvoice.set(invoice.id, charge.id);
  const payment = invoicePaymentObject({ invoice, charge, now });
  store.invoicePayments.set(payment.id, payment);
}

export function markPaid(invoice: Invoice, now: number): void {
  invoice.amount_paid = invoice.amount_due;
  invoice.amount_remaining = 0;
  invoice.status = "paid";
  invoice.status_transitions.paid_at = now;
  invoice.next_payment_attempt = null;
}

/**
 * Attempt the invoice and report the outcome as Stripe does: `invoice.paid`, or
 * `invoice.payment_failed` with the next attempt (null after the last), then the subscription's
 * resulting status as `customer.subscription.updated` (or `.deleted` when the account cancels
 * subscriptions whose retries are spent).
 */
export function collect(
  store: Store,
  invoice: Invoice,
  subscription: Subscription,
  options: { description: string; request?: EventRequest },
): boolean {
  const request = options.request ?? NO_REQUEST;
  const before = structuredClone(subscription);
  const paid = attemptPayment(store, invoice, options.description);
  if (paid) {
    store.emit("invoice.paid", invoice, { request });
    if (
      (subscription.status === "past_due" || subscription.status === "unpaid") &&
      !hasUnpaidInvoices(store, subscription)
    ) {
      subscription.status = "active";
    }
  } else {
    const retryInDays = store.settings.retrySchedule[invoice.attempt_count - 1];
    invoice.next_payment_attempt = retryInDays === undefined
      ? null
      : store.nowUnix() + retryInDays * DAY_SECONDS;
    store.emit("invoice.payment_failed", invoice, { request });
    if (invoice.next_payment_attempt !== null) {
      if (subscription.status === "active" || subscription.status === "trialing") {
        subscription.status = "past_due";
      }
    } else {
      afterLastAttempt(store, subscription);
    }
  }
  if (subscription.status === "canceled") {
    store.emit("customer.subscription.deleted", subscription, { request });
  } else {
    const changed = previousAttributes(before, subscription);
    if (changed) {
      store.emit("customer.subscription.updated", subscription, {
        previousAttributes: changed,
        request,
      });
    }
  }
  return paid;
}

/** The account's setting for a payment whose every retry failed. */
function afterLastAttempt(store: Store, subscription: Subscription): void {
  const now = store.nowUnix();
  switch (store.settings.afterFailedRetries) {
    case "cancel":
      subscription.status = "canceled";
      subscription.canceled_at = now;
      subscription.ended_at = now;
      subscription.cancellation_details = {
        ...subscription.cancellation_details!,
        reason: "payment_failed",
      };
      store.declines.delete(subscription.id);
      break;
    case "unpaid":
      subscription.status = "unpaid";
      break;
    case "past_due":
      subscription.status = "past_due";
      break;
  }
}

function hasUnpaidInvoices(store: Store, subscription: Subscription): boolean {
  return [...store.invoices.values()].some((invoice) =>
    invoice.status === "open" && subscriptionOf(invoice) === subscription.id
  );
}
