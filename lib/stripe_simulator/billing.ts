/**
 * The subscription state machine, in one place: paying a checkout, renewing, the end of a trial,
 * changing the price or the trial, cancelling, and deleting a customer — what each does to the
 * objects and which events it emits. Collecting invoices is `collection.ts`; when scheduled
 * moments happen is `clock.ts`. Everything here is synchronous, so two requests can never
 * interleave their changes.
 */
import { attemptPayment, collect, createInvoice, defaultPaymentMethod } from "./collection.ts";
import { invalidRequest, SimulatorError } from "./errors.ts";
import { type EventRequest, NO_REQUEST, previousAttributes } from "./events.ts";
import {
  checkoutCustomerDetails,
  type CheckoutSession,
  type Customer,
  customerObject,
  itemOf,
  type Metadata,
  type Price,
  type Subscription,
  subscriptionLine,
  subscriptionObject,
} from "./objects.ts";
import { type PaymentChoice, paymentMethodObject } from "./payment_objects.ts";
import { DAY_SECONDS, periodEnd } from "./periods.ts";
import type { ProrationBehavior } from "./portal_configurations.ts";
import { checkPriceChange, intervalOf, priceChangeBill } from "./proration.ts";
import type { CheckoutRecord, Store } from "./store.ts";

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
 * The buyer pressed "Pay": customer (when new), payment method, subscription, first invoice and
 * its payment, in the order Stripe emits their events. A bank debit does not settle at once: the
 * subscription waits, `incomplete`, with its first invoice open (see `settleDelayedPayment`).
 */
export function completeCheckout(
  store: Store,
  record: CheckoutRecord,
  email: string | null,
  choice: PaymentChoice,
): CheckoutSession {
  const { session, lineItem } = record;
  if (session.status !== "open") {
    throw new SimulatorError(`This checkout session is ${session.status}.`);
  }
  if (session.expires_at <= store.nowUnix()) {
    throw new SimulatorError("This checkout session has expired.");
  }
  if (session.customer && store.deletedCustomers.has(session.customer as string)) {
    throw new SimulatorError("This checkout session's customer has been deleted.");
  }
  const address = session.customer_email ?? email;
  const existing = session.customer ? store.customers.get(session.customer as string) : undefined;
  if (!existing && !address) throw new SimulatorError("Enter an email address to pay.");
  const customer = existing ??
    createCustomer(store, { email: address, name: null, metadata: {} }, NO_REQUEST);

  const now = store.nowUnix();
  const method = paymentMethodObject({ choice, customer, now });
  store.paymentMethods.set(method.id, method);
  customer.invoice_settings.default_payment_method = method.id;

  const price = lineItem.price!;
  const trialEnd = record.trialPeriodDays ? now + record.trialPeriodDays * DAY_SECONDS : null;
  const settlesLater = choice.type === "bacs_debit" && trialEnd === null;
  const subscription = subscriptionObject({
    customer: customer.id,
    price,
    quantity: lineItem.quantity ?? 1,
    metadata: record.subscriptionMetadata,
    now,
    trialEnd,
    periodEnd: periodEnd(now, now, intervalOf(price)),
    status: trialEnd !== null ? "trialing" : settlesLater ? "incomplete" : "active",
    missingPaymentMethod: record.missingPaymentMethod,
  });
  store.subscriptions.set(subscription.id, subscription);
  const item = itemOf(subscription);
  const invoice = createInvoice(store, subscription, {
    billingReason: "subscription_create",
    lines: [
      subscriptionLine(
        subscription,
        { start: item.current_period_start, end: item.current_period_end },
        trialEnd !== null,
      ),
    ],
    period: { start: now, end: now },
  });
  if (settlesLater) {
    // The debit is on its way: attempted once, the invoice open until the bank answers.
    invoice.attempted = true;
    invoice.attempt_count = 1;
    record.unsettledInvoice = invoice.id;
    store.emit("customer.subscription.created", subscription);
  } else {
    attemptPayment(store, invoice, "Subscription creation");
    store.emit("customer.subscription.created", subscription);
    store.emit("invoice.paid", invoice);
  }

  session.status = "complete";
  session.payment_status = settlesLater
    ? "unpaid"
    : invoice.amount_paid > 0
    ? "paid"
    : "no_payment_required";
  session.customer = customer.id;
  session.customer_details = checkoutCustomerDetails(customer.email);
  session.subscription = subscription.id;
  if (settlesLater) session.invoice = invoice.id;
  store.emit("checkout.session.completed", session);
  warnOfTrialEnd(store, subscription, { ifWithin: TRIAL_WARNING_SECONDS });
  return session;
}

/** `customer.subscription.trial_will_end` comes this long before a trial ends. */
export const TRIAL_WARNING_SECONDS = 3 * DAY_SECONDS;

/**
 * Send `customer.subscription.trial_will_end`, once per trial end. With `ifWithin`, only when
 * the trial ends that soon: a trial set to end in less than three days is warned about at once.
 */
export function warnOfTrialEnd(
  store: Store,
  subscription: Subscription,
  options: { ifWithin?: number } = {},
): void {
  const trialEnd = subscription.trial_end;
  if (subscription.status !== "trialing" || trialEnd === null) return;
  if (store.trialWarnings.get(subscription.id) === trialEnd) return;
  if (options.ifWithin !== undefined && trialEnd - store.nowUnix() > options.ifWithin) return;
  store.trialWarnings.set(subscription.id, trialEnd);
  store.emit("customer.subscription.trial_will_end", subscription);
}

export interface PriceChangeRequest {
  itemId: string;
  price: Price;
  prorationBehavior: ProrationBehavior;
  prorationDate?: number;
}

export interface SubscriptionChanges {
  cancelAtPeriodEnd?: boolean;
  /** `"now"` ends the trial and bills at once; a timestamp moves (or starts) the trial's end. */
  trialEnd?: "now" | number;
  metadata?: Metadata;
  cancellationDetails?: { comment?: string; feedback?: CancellationFeedback };
  priceChange?: PriceChangeRequest;
  prorationBehavior?: ProrationBehavior;
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
  const changesBilling = changes.cancelAtPeriodEnd !== undefined ||
    changes.trialEnd !== undefined || changes.priceChange !== undefined;
  if (subscription.status === "canceled" && changesBilling) {
    throw invalidRequest(
      "A canceled subscription can only update its cancellation_details and metadata.",
    );
  }
  if (
    changesBilling && ["incomplete", "incomplete_expired", "paused"].includes(subscription.status)
  ) {
    throw invalidRequest(
      `The Stripe simulator cannot change the billing of a subscription that is ${subscription.status}.`,
    );
  }
  const startsTrial = typeof changes.trialEnd === "number" && subscription.status !== "trialing";
  if (changes.trialEnd !== undefined && subscription.status !== "trialing") {
    if (changes.trialEnd === "now" || subscription.status !== "active") {
      throw invalidRequest(
        "The Stripe simulator can end a trial only while the subscription is trialing, and start " +
          "one only while it is active.",
        "trial_end",
      );
    }
    if (changes.prorationBehavior !== "none") {
      throw invalidRequest(
        "The Stripe simulator starts a trial on an active subscription only with " +
          "proration_behavior=none.",
        "proration_behavior",
      );
    }
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
  const priceChange = changes.priceChange && checkedPriceChange(subscription, changes, now);

  const before = structuredClone(subscription);
  if (changes.metadata) subscription.metadata = changes.metadata;
  if (changes.cancellationDetails) {
    applyCancellationDetails(subscription, changes.cancellationDetails);
  }
  if (changes.cancelAtPeriodEnd !== undefined) {
    setCancelAtPeriodEnd(subscription, changes.cancelAtPeriodEnd, now);
  }
  if (typeof changes.trialEnd === "number") {
    const item = itemOf(subscription);
    if (startsTrial) {
      // As at Stripe: the paid period is cut short, nothing is credited or charged, and the
      // next invoice comes when the trial ends.
      subscription.status = "trialing";
      subscription.trial_start = now;
      item.current_period_start = now;
    }
    subscription.trial_end = changes.trialEnd;
    subscription.billing_cycle_anchor = changes.trialEnd;
    item.current_period_end = changes.trialEnd;
    if (subscription.cancel_at_period_end) subscription.cancel_at = changes.trialEnd;
  }
  if (changes.trialEnd === "now") {
    startNextPeriod(store, subscription, "subscription_update", before, request);
  } else if (priceChange) {
    changePrice(store, subscription, priceChange, before, request);
  } else {
    emitUpdated(store, before, subscription, request);
  }
  if (typeof changes.trialEnd === "number") {
    warnOfTrialEnd(store, subscription, { ifWithin: TRIAL_WARNING_SECONDS });
  }
  return subscription;
}

const MAX_TRIAL_SECONDS = 730 * DAY_SECONDS;

function checkedPriceChange(
  subscription: Subscription,
  changes: SubscriptionChanges,
  now: number,
) {
  const request = changes.priceChange!;
  const item = itemOf(subscription);
  if (request.itemId !== item.id) {
    throw invalidRequest(
      `No such subscription item: '${request.itemId}'`,
      "items[0][id]",
      "resource_missing",
    );
  }
  if (changes.trialEnd !== undefined) {
    throw invalidRequest(
      "The Stripe simulator changes the price and the trial end in separate requests.",
      "trial_end",
    );
  }
  if (request.price.id === item.price.id) return null;
  const change = {
    price: request.price,
    prorationBehavior: request.prorationBehavior,
    prorationDate: request.prorationDate ?? now,
  };
  checkPriceChange(subscription, change);
  return change;
}

/**
 * Switch the subscription's price. A trial carries on at the new price; otherwise the cycle
 * restarts now and the change is invoiced and collected at once.
 */
function changePrice(
  store: Store,
  subscription: Subscription,
  change: NonNullable<ReturnType<typeof checkedPriceChange>>,
  before: Subscription,
  request: EventRequest,
): void {
  const item = itemOf(subscription);
  const now = store.nowUnix();
  if (subscription.status === "trialing") {
    setPrice(subscription, change.price);
    emitUpdated(store, before, subscription, request);
    return;
  }
  const bill = priceChangeBill(subscription, change, now);
  setPrice(subscription, change.price);
  subscription.billing_cycle_anchor = now;
  item.current_period_start = bill.period.start;
  item.current_period_end = bill.period.end;
  if (subscription.cancel_at_period_end) subscription.cancel_at = bill.period.end;
  const invoice = createInvoice(store, subscription, {
    billingReason: "subscription_update",
    lines: bill.lines,
    period: { start: now, end: now },
  });
  emitUpdated(store, before, subscription, request);
  collect(store, invoice, subscription, { description: "Subscription update", request });
}

function setPrice(subscription: Subscription, price: Price): void {
  const item = itemOf(subscription);
  item.price = price;
  item.plan = {
    ...item.plan,
    id: price.id,
    amount: price.unit_amount,
    amount_decimal: price.unit_amount_decimal,
    interval: price.recurring!.interval,
    nickname: price.nickname,
  };
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
  if (subscription.status === "canceled" || subscription.status === "incomplete_expired") {
    throw invalidRequest(`Subscription ${subscription.id} has already been canceled.`);
  }
  const now = store.nowUnix();
  subscription.status = "canceled";
  subscription.canceled_at = now;
  subscription.ended_at = now;
  applyCancellationDetails(subscription, details);
  subscription.cancellation_details!.reason = "cancellation_requested";
  store.declines.delete(subscription.id);
  store.emit("customer.subscription.deleted", subscription, { request });
  return subscription;
}

/**
 * Delete a customer as Stripe does: their live subscriptions are canceled at once, each with
 * `customer.subscription.deleted`, then `customer.deleted`. The id answers with the deleted
 * stub from then on.
 */
export function deleteCustomer(store: Store, customer: Customer, request: EventRequest): void {
  for (const subscription of store.subscriptions.values()) {
    if (subscription.customer !== customer.id || !isLive(subscription)) continue;
    cancelSubscription(store, subscription, request);
  }
  store.customers.delete(customer.id);
  store.deletedCustomers.add(customer.id);
  store.emit("customer.deleted", customer, { request });
}

/** A subscription that has not ended. */
export function isLive(subscription: Subscription): boolean {
  return subscription.status !== "canceled" && subscription.status !== "incomplete_expired";
}

/**
 * The current period (or trial) is over: a subscription set to cancel ends; a trial without a
 * payment method follows its `missing_payment_method` setting; otherwise the next period starts
 * and is billed.
 */
export function reachPeriodEnd(store: Store, subscription: Subscription): void {
  if (subscription.cancel_at_period_end) {
    endSubscription(store, subscription, itemOf(subscription).current_period_end);
    return;
  }
  const missing = subscription.trial_settings!.end_behavior.missing_payment_method;
  const cardless = !defaultPaymentMethod(store, subscription.customer as string);
  if (subscription.status === "trialing" && cardless && missing === "pause") {
    const before = structuredClone(subscription);
    subscription.status = "paused";
    store.emit("customer.subscription.paused", subscription);
    emitUpdated(store, before, subscription, NO_REQUEST);
    return;
  }
  if (subscription.status === "trialing" && cardless && missing === "cancel") {
    const now = store.nowUnix();
    subscription.status = "canceled";
    subscription.canceled_at = now;
    subscription.ended_at = now;
    store.declines.delete(subscription.id);
    store.emit("customer.subscription.deleted", subscription);
    return;
  }
  startNextPeriod(store, subscription, "subscription_cycle");
}

function endSubscription(store: Store, subscription: Subscription, at: number): void {
  subscription.status = "canceled";
  subscription.ended_at = at;
  store.declines.delete(subscription.id);
  store.emit("customer.subscription.deleted", subscription);
}

/**
 * A new billing period: at the end of the last one (`subscription_cycle`, which is also how a
 * trial converts) or right now when a trial is ended early (`subscription_update`). Bills the
 * full price and collects it; an `unpaid` subscription gets its invoice but no attempt, as at
 * Stripe.
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
  const invoice = createInvoice(store, subscription, {
    billingReason: reason,
    lines: [
      subscriptionLine(
        subscription,
        { start: item.current_period_start, end: item.current_period_end },
        false,
      ),
    ],
    period: { start: previousStart, end: start },
  });
  emitUpdated(store, before, subscription, request);
  if (subscription.status === "unpaid") return;
  collect(store, invoice, subscription, { description: "Subscription update", request });
}

/**
 * Decline the subscription's next `count` payment attempts (`Infinity`: every attempt until the
 * customer's card is updated).
 */
export function failPayments(store: Store, subscription: Subscription, count: number): void {
  if (!isLive(subscription)) {
    throw new SimulatorError(
      `Subscription ${subscription.id} is ${subscription.status}; it has no next payment.`,
    );
  }
  if (!(count >= 1)) throw new SimulatorError("count must be at least 1.");
  store.declines.set(subscription.id, count);
}

export function emitUpdated(
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
