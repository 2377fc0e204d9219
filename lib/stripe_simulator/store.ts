/**
 * Everything one simulator knows, in memory: its objects, its clock and its event log. The API,
 * the hosted pages and the test controls all change state through this store, so every change
 * is recorded as the events Stripe would send.
 */
import { SEEDED_PRICES } from "./catalog.ts";
import {
  eventObject,
  type EventRequest,
  NO_REQUEST,
  type SimulatedEvent,
  type SimulatedEventType,
} from "./events.ts";
import {
  type Charge,
  type CheckoutLineItem,
  type CheckoutSession,
  type Customer,
  type Invoice,
  type Metadata,
  type PortalSession,
  type Price,
  priceObject,
  type Subscription,
  unix,
} from "./objects.ts";
import type {
  Dispute,
  InvoicePayment,
  MissingPaymentMethod,
  PaymentMethod,
  Refund,
} from "./payment_objects.ts";
import { defaultPortalConfiguration, type PortalConfiguration } from "./portal_configurations.ts";

/** A checkout session and what it sells, which Stripe keeps but only shows when expanded. */
export interface CheckoutRecord {
  session: CheckoutSession;
  lineItem: CheckoutLineItem;
  trialPeriodDays: number | null;
  subscriptionMetadata: Metadata;
  missingPaymentMethod: MissingPaymentMethod;
  /** The first invoice, while a bank debit that pays it has not settled yet. */
  unsettledInvoice: string | null;
}

/** What happens when the last retry of a failed payment fails too (Stripe's dashboard setting). */
export type AfterFailedRetries = "cancel" | "unpaid" | "past_due";

/** Account-wide billing settings, which Stripe keeps in its dashboard. */
export interface SimulatorSettings {
  afterFailedRetries: AfterFailedRetries;
  /** Days after the previous attempt for each retry of a failed payment. */
  retrySchedule: readonly number[];
  /** Days before a renewal that `invoice.upcoming` is sent. */
  upcomingInvoiceDays: number;
}

export const DEFAULT_SETTINGS: SimulatorSettings = {
  afterFailedRetries: "cancel",
  retrySchedule: [3, 5, 7],
  upcomingInvoiceDays: 7,
};

export interface Store {
  customers: Map<string, Customer>;
  prices: Map<string, Price>;
  checkouts: Map<string, CheckoutRecord>;
  portalSessions: Map<string, PortalSession>;
  subscriptions: Map<string, Subscription>;
  invoices: Map<string, Invoice>;
  charges: Map<string, Charge>;
  /** The charge that paid each invoice; Stripe links them through payment records. */
  chargeOfInvoice: Map<string, string>;
  invoicePayments: Map<string, InvoicePayment>;
  paymentMethods: Map<string, PaymentMethod>;
  refunds: Map<string, Refund>;
  disputes: Map<string, Dispute>;
  portalConfigurations: Map<string, PortalConfiguration>;
  /** Customers deleted through the API: their ids answer only with the deleted stub. */
  deletedCustomers: Set<string>;
  /**
   * Subscriptions whose next payment attempts will be declined, and how many of them
   * (`Infinity`: until the customer's card is updated).
   */
  declines: Map<string, number>;
  /** The trial end each subscription was last warned about (`trial_will_end`). */
  trialWarnings: Map<string, number>;
  /** The period end each subscription's last `invoice.upcoming` announced. */
  upcomingNotices: Map<string, number>;
  /** The next API requests answer with this status instead of running. */
  /** Injected failures: the next `remaining` requests (only those `match` names, if set). */
  requestFailures: { remaining: number; status: 429 | 500; match: string | null };
  settings: SimulatorSettings;
  events: Map<string, SimulatedEvent>;

  /** The simulator's time: the injected clock plus however far tests have advanced it. */
  now(): Date;
  /** `now()` as a Unix timestamp. */
  nowUnix(): number;
  /** Move the clock forward to `date` (never backwards). */
  advanceTo(date: Date): void;
  /**
   * Run `apply` as at `moment` (Unix seconds): a scheduled change the clock has already passed
   * happens, and is stamped, when it was due.
   */
  at<T>(moment: number, apply: () => T): T;

  /** Record an event about `object` and hand it on for delivery. */
  emit(
    type: SimulatedEventType,
    object: object,
    options?: { previousAttributes?: Record<string, unknown> | null; request?: EventRequest },
  ): SimulatedEvent;
}

export interface StoreOptions {
  now: () => Date;
  onEvent: (event: SimulatedEvent) => void;
  settings?: Partial<SimulatorSettings>;
}

export function createStore(options: StoreOptions): Store {
  let offsetMs = 0;
  let pinned: number | null = null;
  const now = () =>
    pinned === null ? new Date(options.now().getTime() + offsetMs) : new Date(pinned * 1000);
  const created = unix(now());
  const store: Store = {
    customers: new Map(),
    prices: new Map(SEEDED_PRICES.map((price) => [price.id, priceObject(price, created)])),
    checkouts: new Map(),
    portalSessions: new Map(),
    subscriptions: new Map(),
    invoices: new Map(),
    charges: new Map(),
    chargeOfInvoice: new Map(),
    invoicePayments: new Map(),
    paymentMethods: new Map(),
    refunds: new Map(),
    disputes: new Map(),
    portalConfigurations: new Map([[
      "bpc_sim_default",
      defaultPortalConfiguration(created),
    ]]),
    deletedCustomers: new Set(),
    declines: new Map(),
    trialWarnings: new Map(),
    upcomingNotices: new Map(),
    requestFailures: { remaining: 0, status: 429, match: null },
    settings: { ...DEFAULT_SETTINGS, ...options.settings },
    events: new Map(),
    now,
    nowUnix: () => unix(now()),
    advanceTo(date) {
      const ahead = date.getTime() - now().getTime();
      if (ahead > 0) offsetMs += ahead;
    },
    at(moment, apply) {
      const outer = pinned;
      pinned = moment < unix(now()) ? moment : null;
      if (pinned === null) store.advanceTo(new Date(moment * 1000));
      try {
        return apply();
      } finally {
        pinned = outer;
      }
    },
    emit(type, object, { previousAttributes, request } = {}) {
      const event = eventObject({
        type,
        object,
        previousAttributes: previousAttributes ?? undefined,
        request: request ?? NO_REQUEST,
        created: store.nowUnix(),
      });
      store.events.set(event.id, event);
      options.onEvent(event);
      return event;
    },
  };
  return store;
}
