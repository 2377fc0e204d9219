/**
 * What a price change bills, and the invoices that have not happened yet. Prorations are by the
 * second, as Stripe's are: the unused part of the period already paid is credited. Every price in
 * the catalog bills over a different interval, so a change always resets the billing cycle
 * anchor to now and is invoiced at once, for the new price's whole first period less that credit.
 */
import type { BillingInterval } from "./catalog.ts";
import { invalidRequest } from "./errors.ts";
import {
  type Invoice,
  type InvoiceLineInput,
  invoiceObject,
  itemOf,
  type Price,
  type Subscription,
  subscriptionLine,
} from "./objects.ts";
import { day, periodEnd } from "./periods.ts";
import type { ProrationBehavior } from "./portal_configurations.ts";
import type { Store } from "./store.ts";

export interface PriceChange {
  price: Price;
  prorationBehavior: ProrationBehavior;
  /** When the unused time is counted from; now unless the request named a moment. */
  prorationDate: number;
}

export interface PriceChangeBill {
  lines: InvoiceLineInput[];
  /** The new current period: from now, one interval of the new price. */
  period: { start: number; end: number };
}

export function intervalOf(price: Price): BillingInterval {
  return price.recurring!.interval as BillingInterval;
}

/** Check a price change against the subscription before anything is applied. */
export function checkPriceChange(subscription: Subscription, change: PriceChange): void {
  const item = itemOf(subscription);
  if (
    intervalOf(change.price) === intervalOf(item.price) && change.price.id !== item.price.id
  ) {
    throw invalidRequest(
      "The Stripe simulator prorates only changes between billing intervals.",
      "items[0][price]",
    );
  }
  const { current_period_start: start, current_period_end: end } = item;
  if (change.prorationDate < start || change.prorationDate > end) {
    throw invalidRequest(
      "proration_date must be within the subscription's current period " +
        `(${start} to ${end}).`,
      "proration_date",
    );
  }
}

/**
 * The lines a change to `change.price` bills now: the credit for the unused time of the old price
 * (unless `proration_behavior=none`, or nothing was paid because the subscription is trialing)
 * and the new price's first period.
 */
export function priceChangeBill(
  subscription: Subscription,
  change: PriceChange,
  now: number,
): PriceChangeBill {
  const item = itemOf(subscription);
  const period = { start: now, end: periodEnd(now, now, intervalOf(change.price)) };
  const lines: InvoiceLineInput[] = [];
  const { current_period_start: start, current_period_end: end } = item;
  const paidFor = subscription.status !== "trialing";
  if (change.prorationBehavior !== "none" && paidFor && end > change.prorationDate) {
    const quantity = item.quantity ?? 1;
    const full = (item.price.unit_amount ?? 0) * quantity;
    const unused = Math.round(full * (end - change.prorationDate) / (end - start));
    lines.push({
      amount: -unused,
      price: item.price,
      quantity,
      period: { start: change.prorationDate, end },
      description: `Unused time on ${quantity} × ${item.price.nickname ?? item.price.id} after ${
        day(change.prorationDate)
      }`,
      proration: true,
    });
  }
  const renamed = structuredClone(subscription);
  itemOf(renamed).price = change.price;
  lines.push(subscriptionLine(renamed, period, false));
  return { lines, period };
}

/** The invoice a price change would produce, without changing anything. */
export function previewPriceChange(
  store: Store,
  subscription: Subscription,
  change: PriceChange,
): Invoice {
  checkPriceChange(subscription, change);
  const now = store.nowUnix();
  const customer = structuredClone(store.customers.get(subscription.customer as string)!);
  if (itemOf(subscription).price.id === change.price.id) return previewRenewal(store, subscription);
  const bill = priceChangeBill(subscription, change, now);
  return invoiceObject({
    subscription,
    customer,
    billingReason: "upcoming",
    lines: bill.lines,
    period: { start: now, end: now },
    now,
    preview: true,
    prorationDate: change.prorationDate,
  });
}

/** The invoice the subscription's next renewal (or trial conversion) will produce. */
export function previewRenewal(store: Store, subscription: Subscription): Invoice {
  const item = itemOf(subscription);
  const start = item.current_period_end;
  const next = {
    start,
    end: periodEnd(start, subscription.billing_cycle_anchor, intervalOf(item.price)),
  };
  const customer = structuredClone(store.customers.get(subscription.customer as string)!);
  const invoice = invoiceObject({
    subscription,
    customer,
    billingReason: "upcoming",
    lines: [subscriptionLine(subscription, next, false)],
    period: { start: item.current_period_start, end: start },
    now: store.nowUnix(),
    preview: true,
  });
  invoice.next_payment_attempt = start;
  return invoice;
}
