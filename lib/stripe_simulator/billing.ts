/**
 * The subscription state machine, in one place: paying a checkout, renewing, the end of a trial,
 * cancelling, a declined payment and a refund — what each does to the objects and which events
 * it emits. Everything here is synchronous, so two requests can never interleave their changes.
 */
import { invalidRequest, SimulatorError } from "./errors.ts";
import { type EventRequest, NO_REQUEST, previousAttributes } from "./events.ts";
import {
  type Charge,
  chargeObject,
  checkoutCustomerDetails,
  type CheckoutSession,
  type Customer,
  customerObject,
  type Invoice,
  invoiceObject,
  itemOf,
  type Metadata,
  type Price,
  type Subscription,
  subscriptionObject,
} from "./objects.ts";
import { DAY_SECONDS, periodEnd } from "./periods.ts";
import type { BillingInterval } from "./catalog.ts";
import type { CheckoutRecord, Store } from "./store.ts";

const MAX_TRIAL_SECONDS = 730 * DAY_SECONDS;

export function createCustomer(
  store: Store,
  input: { email: string | null; name: string | null; metadata: Metadata },
  request: EventRequest,
): Customer {
  const customer = customerObject({ ...input, created: store.nowUnix() });
  store.customers.set(customer.id, customer);
  store.emit("customer.created", customer, { request });
  return customer;
}

/**
 * The buyer pressed "Pay": customer (when new), subscription, first invoice and its payment, in
 * the order Stripe emits their events.
 */
export function completeCheckout(
  store: Store,
  record: CheckoutRecord,
  email: string | null,
): CheckoutSession {
  const { session, lineItem } = record;
  if (session.status !== "open") {
    throw new SimulatorError(`This checkout session is ${session.status}.`);
  }
  if (session.expires_at <= store.nowUnix()) {
    throw new SimulatorError("This checkout session has expired.");
  }
  const address = session.customer_email ?? email;
  const existing = session.customer ? store.customers.get(session.customer as string) : undefined;
  if (!existing && !address) throw new SimulatorError("Enter an email address to pay.");
  const customer = existing ??
    createCustomer(store, { email: address, name: null, metadata: {} }, NO_REQUEST);

  const now = store.nowUnix();
  const price = lineItem.price!;
  const trialEnd = record.trialPeriodDays ? now + record.trialPeriodDays * DAY_SECONDS : null;
  const subscription = subscriptionObject({
    customer: customer.id,
    price,
    quantity: lineItem.quantity ?? 1,
    metadata: record.subscriptionMetadata,
    now,
    trialEnd,
    periodEnd: periodEnd(now, now, intervalOf(price)),
  });
  store.subscriptions.set(subscription.id, subscription);
  const invoice = createInvoice(store, subscription, customer, {
    billingReason: "subscription_create",
    amount: trialEnd === null ? amountOf(subscription) : 0,
    period: { start: now, end: now },
  });
  collectPayment(store, invoice, subscription, "Subscription creation");
  store.emit("customer.subscription.created", subscription);
  store.emit("invoice.paid", invoice);

  session.status = "complete";
  session.payment_status = invoice.amount_paid > 0 ? "paid" : "no_payment_required";
  session.customer = customer.id;
  session.customer_details = checkoutCustomerDetails(customer.email);
  session.subscription = subscription.id;
  store.emit("checkout.session.completed", session);
  return session;
}

export interface SubscriptionChanges {
  cancelAtPeriodEnd?: boolean;
  /** `"now"` ends the trial and bills at once; a timestamp moves the trial's end. */
  trialEnd?: "now" | number;
  metadata?: Metadata;
  cancellationDetails?: { comment?: string; feedback?: CancellationFeedback };
}

export type CancellationFeedback = NonNullable<
  NonNullable<Subscription["cancellation_details"]>["feedback"]
>;

/** One update request: checked in full first, then applied as one `updated` event. */
export function updateSubscription(
  store: Store,
  subscription: Subscription,
  changes: SubscriptionChanges,
  request: EventRequest,
): Subscription {
  const now = store.nowUnix();
  const changesBilling = changes.cancelAtPeriodEnd !== undefined || changes.trialEnd !== undefined;
  if (subscription.status === "canceled" && changesBilling) {
    throw invalidRequest(
      "A canceled subscription can only update its cancellation_details and metadata.",
    );
  }
  if (changes.trialEnd !== undefined && subscription.status !== "trialing") {
    throw invalidRequest(
      "The Stripe simulator can change trial_end only while the subscription is trialing.",
      "trial_end",
    );
  }
  if (typeof changes.trialEnd === "number" && changes.trialEnd <= now) {
    throw invalidRequest(
      "Invalid timestamp: must be an integer Unix timestamp in the future.",
      "trial_end",
    );
  }
  if (typeof changes.trialEnd === "number" && changes.trialEnd > now + MAX_TRIAL_SECONDS) {
    throw invalidRequest(
      "Invalid timestamp: can be no more than two years in the future.",
      "trial_end",
    );
  }

  const before = structuredClone(subscription);
  if (changes.metadata) subscription.metadata = changes.metadata;
  if (changes.cancellationDetails) {
    applyCancellationDetails(subscription, changes.cancellationDetails);
  }
  if (changes.cancelAtPeriodEnd !== undefined) {
    setCancelAtPeriodEnd(subscription, changes.cancelAtPeriodEnd, now);
  }
  if (typeof changes.trialEnd === "number") {
    subscription.trial_end = changes.trialEnd;
    subscription.billing_cycle_anchor = changes.trialEnd;
    itemOf(subscription).current_period_end = changes.trialEnd;
    if (subscription.cancel_at_period_end) subscription.cancel_at = changes.trialEnd;
  }
  if (changes.trialEnd === "now") {
    startNextPeriod(store, subscription, "subscription_update", before, request);
  } else {
    emitUpdated(store, before, subscription, request);
  }
  return subscription;
}

function setCancelAtPeriodEnd(subscription: Subscription, cancel: boolean, now: number): void {
  subscription.cancel_at_period_end = cancel;
  subscription.cancel_at = cancel ? itemOf(subscription).current_period_end : null;
  subscription.canceled_at = cancel ? now : null;
  subscription.cancellation_details = {
    ...subscription.cancellation_details!,
    reason: cancel ? "cancellation_requested" : null,
  };
}

/** The customer's own words about why they left; the reason is Stripe's to set. */
function applyCancellationDetails(
  subscription: Subscription,
  details: NonNullable<SubscriptionChanges["cancellationDetails"]>,
): void {
  const current = subscription.cancellation_details!;
  subscription.cancellation_details = {
    ...current,
    comment: details.comment ?? current.comment,
    feedback: details.feedback ?? current.feedback,
  };
}

/** Cancel at once: no refund, no final invoice, as with `DELETE /v1/subscriptions/:id`. */
export function cancelSubscription(
  store: Store,
  subscription: Subscription,
  request: EventRequest,
  details: SubscriptionChanges["cancellationDetails"] = {},
): Subscription {
  if (subscription.status === "canceled") {
    throw invalidRequest(`Subscription ${subscription.id} has already been canceled.`);
  }
  const now = store.nowUnix();
  subscription.status = "canceled";
  subscription.canceled_at = now;
  subscription.ended_at = now;
  applyCancellationDetails(subscription, details);
  subscription.cancellation_details!.reason = "cancellation_requested";
  store.failingSubscriptions.delete(subscription.id);
  store.emit("customer.subscription.deleted", subscription, { request });
  return subscription;
}

/**
 * Move the clock to `to` (default: the subscription's next trial end or period end) and apply,
 * at their own times, every boundary the subscription crosses on the way.
 */
export function advanceSubscription(
  store: Store,
  subscription: Subscription,
  to?: Date,
): Subscription {
  if (subscription.status === "canceled") {
    throw new SimulatorError(`Subscription ${subscription.id} is canceled; nothing happens next.`);
  }
  if (to && to.getTime() < store.now().getTime()) {
    throw new SimulatorError(
      `The simulator's clock is at ${store.now().toISOString()} and cannot go back to ` +
        to.toISOString(),
    );
  }
  const target = to ? Math.floor(to.getTime() / 1000) : itemOf(subscription).current_period_end;
  while (subscription.status !== "canceled") {
    const boundary = itemOf(subscription).current_period_end;
    if (boundary > target) break;
    store.advanceTo(new Date(boundary * 1000));
    if (subscription.cancel_at_period_end) endSubscription(store, subscription, boundary);
    else startNextPeriod(store, subscription, "subscription_cycle");
  }
  store.advanceTo(to ?? new Date(target * 1000));
  return subscription;
}

function endSubscription(store: Store, subscription: Subscription, at: number): void {
  subscription.status = "canceled";
  subscription.ended_at = at;
  store.failingSubscriptions.delete(subscription.id);
  store.emit("customer.subscription.deleted", subscription);
}

/**
 * A new billing period: at the end of the last one (`subscription_cycle`, which is also how a
 * trial converts) or right now when a trial is ended early (`subscription_update`). Bills the
 * full price and reports the outcome as Stripe does.
 */
function startNextPeriod(
  store: Store,
  subscription: Subscription,
  reason: "subscription_cycle" | "subscription_update",
  before: Subscription = structuredClone(subscription),
  request: EventRequest = NO_REQUEST,
): void {
  const item = itemOf(subscription);
  const previousStart = item.current_period_start;
  const start = reason === "subscription_cycle" ? item.current_period_end : store.nowUnix();
  if (reason === "subscription_update") {
    subscription.billing_cycle_anchor = start;
    subscription.trial_end = start;
  }
  item.current_period_start = start;
  item.current_period_end = periodEnd(
    start,
    subscription.billing_cycle_anchor,
    intervalOf(item.price),
  );
  if (subscription.cancel_at_period_end) subscription.cancel_at = item.current_period_end;
  if (subscription.status === "trialing") subscription.status = "active";
  const customer = store.customers.get(subscription.customer as string)!;
  const invoice = createInvoice(store, subscription, customer, {
    billingReason: reason,
    amount: amountOf(subscription),
    period: { start: previousStart, end: start },
  });
  emitUpdated(store, before, subscription, request);

  const outcomeBefore = structuredClone(subscription);
  if (collectPayment(store, invoice, subscription, "Subscription update")) {
    store.emit("invoice.paid", invoice, { request });
    if (subscription.status === "past_due") subscription.status = "active";
  } else {
    store.emit("invoice.payment_failed", invoice, { request });
    subscription.status = "past_due";
  }
  emitUpdated(store, outcomeBefore, subscription, request);
}

function createInvoice(
  store: Store,
  subscription: Subscription,
  customer: Customer,
  input: {
    billingReason: "subscription_create" | "subscription_cycle" | "subscription_update";
    amount: number;
    period: { start: number; end: number };
  },
): Invoice {
  const item = itemOf(subscription);
  const invoice = invoiceObject({
    subscription,
    customer,
    billingReason: input.billingReason,
    amount: input.amount,
    linePeriod: { start: item.current_period_start, end: item.current_period_end },
    period: input.period,
    now: store.nowUnix(),
  });
  store.invoices.set(invoice.id, invoice);
  subscription.latest_invoice = invoice.id;
  return invoice;
}

/** Charge the invoice: £0 needs no payment; otherwise succeed unless a decline is queued. */
function collectPayment(
  store: Store,
  invoice: Invoice,
  subscription: Subscription,
  description: string,
): boolean {
  const now = store.nowUnix();
  invoice.attempted = true;
  if (invoice.amount_due > 0) {
    invoice.attempt_count += 1;
    if (store.failingSubscriptions.delete(subscription.id)) return false;
    const customer = store.customers.get(invoice.customer as string)!;
    const charge = chargeObject({ invoice, customer, now, description });
    store.charges.set(charge.id, charge);
    store.chargeOfInvoice.set(invoice.id, charge.id);
  }
  invoice.amount_paid = invoice.amount_due;
  invoice.amount_remaining = 0;
  invoice.status = "paid";
  invoice.status_transitions.paid_at = now;
  return true;
}

/** Queue a decline for the subscription's next non-zero payment. */
export function failNextPayment(store: Store, subscription: Subscription): void {
  if (subscription.status === "canceled") {
    throw new SimulatorError(
      `Subscription ${subscription.id} is canceled; it has no next payment.`,
    );
  }
  store.failingSubscriptions.add(subscription.id);
}

/** Refund the most recent charge on the subscription's invoices that is not yet refunded. */
export function refundLastCharge(store: Store, subscription: Subscription): Charge {
  const charges = [...store.invoices.values()]
    .filter((invoice) => invoice.parent?.subscription_details?.subscription === subscription.id)
    .map((invoice) => store.charges.get(store.chargeOfInvoice.get(invoice.id) ?? ""))
    .filter((charge): charge is Charge => !!charge && !charge.refunded);
  const charge = charges.at(-1);
  if (!charge) {
    throw new SimulatorError(`Subscription ${subscription.id} has no charge left to refund.`);
  }
  const before = structuredClone(charge);
  charge.amount_refunded = charge.amount;
  charge.refunded = true;
  store.emit("charge.refunded", charge, { previousAttributes: previousAttributes(before, charge) });
  return charge;
}

function emitUpdated(
  store: Store,
  before: Subscription,
  after: Subscription,
  request: EventRequest,
): void {
  const changed = previousAttributes(before, after);
  if (changed) {
    store.emit("customer.subscription.updated", after, { previousAttributes: changed, request });
  }
}

function amountOf(subscription: Subscription): number {
  const item = itemOf(subscription);
  return (item.price.unit_amount ?? 0) * (item.quantity ?? 1);
}

/** Every simulated price is one of the catalog's recurring prices. */
function intervalOf(price: Price): BillingInterval {
  return price.recurring!.interval as BillingInterval;
}
