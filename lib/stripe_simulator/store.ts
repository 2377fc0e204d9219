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

/** A checkout session and what it sells, which Stripe keeps but only shows when expanded. */
export interface CheckoutRecord {
  session: CheckoutSession;
  lineItem: CheckoutLineItem;
  trialPeriodDays: number | null;
  subscriptionMetadata: Metadata;
}

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
  /** Subscriptions whose next payment attempt will be declined. */
  failingSubscriptions: Set<string>;
  events: Map<string, SimulatedEvent>;

  /** The simulator's time: the injected clock plus however far tests have advanced it. */
  now(): Date;
  /** `now()` as a Unix timestamp. */
  nowUnix(): number;
  /** Move the clock forward to `date` (never backwards). */
  advanceTo(date: Date): void;

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
}

export function createStore(options: StoreOptions): Store {
  let offsetMs = 0;
  const now = () => new Date(options.now().getTime() + offsetMs);
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
    failingSubscriptions: new Set(),
    events: new Map(),
    now,
    nowUnix: () => unix(now()),
    advanceTo(date) {
      const ahead = date.getTime() - now().getTime();
      if (ahead > 0) offsetMs += ahead;
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
