/**
 * Stripe's objects, in the shapes of the API version the SDK pins (see `SIMULATED_API_VERSION`).
 * Each factory is typed against the SDK's own definitions, so a field that version requires
 * cannot be forgotten; fields for features the simulator does not model hold Stripe's empty
 * values (null, false, [], {}).
 */
import Stripe, { type Decimal } from "stripe";
import { type CatalogPrice, SIMULATED_PRODUCT } from "./catalog.ts";
import { newId, randomToken } from "./ids.ts";
import {
  chargePaymentDetails,
  type MissingPaymentMethod,
  type PaymentMethod,
} from "./payment_objects.ts";

export const SIMULATED_API_VERSION: string = Stripe.API_VERSION;

/** An object as it travels as JSON: decimals are strings, which the SDK turns into `Decimal`. */
export type Wire<T> = T extends Decimal ? string
  : T extends string | number | boolean | null | undefined ? T
  : T extends (infer Item)[] ? Wire<Item>[]
  : T extends object ? { [K in keyof T]: Wire<T[K]> }
  : T;

export type Customer = Wire<Stripe.Customer>;
export type Price = Wire<Stripe.Price>;
export type Subscription = Wire<Stripe.Subscription>;
export type SubscriptionItem = Wire<Stripe.SubscriptionItem>;
export type Invoice = Wire<Stripe.Invoice>;
export type Charge = Wire<Stripe.Charge>;
export type CheckoutSession = Wire<Stripe.Checkout.Session>;
export type CheckoutLineItem = Wire<Stripe.LineItem>;
export type PortalSession = Wire<Stripe.BillingPortal.Session>;
export type PortalFlow = NonNullable<PortalSession["flow"]>;
export type DeletedCustomer = Wire<Stripe.DeletedCustomer>;

export type Metadata = Record<string, string>;

/** A Unix timestamp in seconds, as every Stripe time field is. */
export function unix(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

export function deletedCustomerObject(id: string): DeletedCustomer {
  return { id, object: "customer", deleted: true };
}

export function customerObject(
  input: { email: string | null; name: string | null; metadata: Metadata; created: number },
): Customer {
  return {
    id: newId("cus"),
    object: "customer",
    address: null,
    balance: 0,
    created: input.created,
    currency: null,
    customer_account: null,
    default_source: null,
    delinquent: false,
    description: null,
    discount: null,
    email: input.email,
    invoice_prefix: randomToken(8).toUpperCase(),
    invoice_settings: {
      custom_fields: null,
      default_payment_method: null,
      footer: null,
      rendering_options: null,
    },
    livemode: false,
    metadata: input.metadata,
    name: input.name,
    next_invoice_sequence: 1,
    phone: null,
    preferred_locales: [],
    shipping: null,
    tax_exempt: "none",
    test_clock: null,
  };
}

export function priceObject(price: CatalogPrice, created: number): Price {
  return {
    id: price.id,
    object: "price",
    active: true,
    billing_scheme: "per_unit",
    created,
    currency: price.currency,
    custom_unit_amount: null,
    livemode: false,
    lookup_key: null,
    metadata: {},
    nickname: price.nickname,
    product: SIMULATED_PRODUCT,
    recurring: {
      interval: price.interval,
      interval_count: 1,
      meter: null,
      trial_period_days: null,
      usage_type: "licensed",
    },
    tax_behavior: "unspecified",
    tiers_mode: null,
    transform_quantity: null,
    type: "recurring",
    unit_amount: price.unitAmount,
    unit_amount_decimal: String(price.unitAmount),
  };
}

/** The legacy `plan` view of a recurring price, still carried by subscription items. */
function planOf(price: Price): Wire<Stripe.Plan> {
  const recurring = price.recurring!;
  return {
    id: price.id,
    object: "plan",
    active: price.active,
    amount: price.unit_amount,
    amount_decimal: price.unit_amount_decimal,
    billing_scheme: price.billing_scheme,
    created: price.created,
    currency: price.currency,
    interval: recurring.interval,
    interval_count: recurring.interval_count,
    livemode: false,
    metadata: {},
    meter: null,
    nickname: price.nickname,
    product: price.product as string,
    tiers_mode: null,
    transform_usage: null,
    trial_period_days: null,
    usage_type: recurring.usage_type,
  };
}

export interface NewSubscription {
  customer: string;
  price: Price;
  quantity: number;
  metadata: Metadata;
  now: number;
  trialEnd: number | null;
  /** End of the first paid period when there is no trial. */
  periodEnd: number;
  status: "active" | "trialing" | "incomplete";
  missingPaymentMethod: MissingPaymentMethod;
}

export function subscriptionObject(input: NewSubscription): Subscription {
  const id = newId("sub");
  const item: SubscriptionItem = {
    id: newId("si"),
    object: "subscription_item",
    billing_thresholds: null,
    created: input.now,
    current_period_end: input.trialEnd ?? input.periodEnd,
    current_period_start: input.now,
    current_trial: null,
    discounts: [],
    metadata: {},
    plan: planOf(input.price),
    price: input.price,
    quantity: input.quantity,
    subscription: id,
    tax_rates: [],
  };
  return {
    id,
    object: "subscription",
    application: null,
    application_fee_percent: null,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null },
    billing_cycle_anchor: input.trialEnd ?? input.now,
    billing_cycle_anchor_config: null,
    billing_mode: { flexible: null, type: "classic" },
    billing_schedules: [],
    billing_thresholds: null,
    cancel_at: null,
    cancel_at_period_end: false,
    canceled_at: null,
    cancellation_details: { comment: null, feedback: null, feedback_option: null, reason: null },
    collection_method: "charge_automatically",
    created: input.now,
    currency: input.price.currency,
    customer: input.customer,
    customer_account: null,
    days_until_due: null,
    default_payment_method: null,
    default_source: null,
    default_tax_rates: [],
    description: null,
    discounts: [],
    ended_at: null,
    invoice_settings: {
      account_tax_ids: null,
      custom_fields: null,
      description: null,
      footer: null,
      issuer: { type: "self" },
    },
    items: {
      object: "list",
      data: [item],
      has_more: false,
      url: `/v1/subscription_items?subscription=${id}`,
    },
    latest_invoice: null,
    livemode: false,
    managed_payments: null,
    metadata: input.metadata,
    next_pending_invoice_item_invoice: null,
    on_behalf_of: null,
    pause_collection: null,
    payment_settings: {
      payment_method_options: null,
      payment_method_types: null,
      save_default_payment_method: "off",
    },
    pending_invoice_item_interval: null,
    pending_setup_intent: null,
    pending_update: null,
    schedule: null,
    start_date: input.now,
    status: input.status,
    test_clock: null,
    transfer_data: null,
    trial_end: input.trialEnd,
    trial_settings: {
      end_behavior: {
        billing_cycle_anchor: null,
        missing_payment_method: input.missingPaymentMethod,
      },
    },
    trial_start: input.trialEnd === null ? null : input.now,
  };
}

/** The subscription's only item: the simulator sells one price per subscription. */
export function itemOf(subscription: Subscription): SubscriptionItem {
  return subscription.items.data[0];
}

export type BillingReason =
  | "subscription_create"
  | "subscription_cycle"
  | "subscription_update"
  | "upcoming";

/** One line of an invoice: a period of a price, or a proration credit for unused time. */
export interface InvoiceLineInput {
  amount: number;
  price: Price;
  quantity: number;
  period: { start: number; end: number };
  description: string;
  proration: boolean;
}

export interface NewInvoice {
  subscription: Subscription;
  customer: Customer;
  billingReason: BillingReason;
  lines: InvoiceLineInput[];
  /** The invoice's own period (the one that just ended, for a renewal). */
  period: { start: number; end: number };
  now: number;
  /** A preview has an `upcoming_in_…` id (or none, in `invoice.upcoming`) and takes no number. */
  preview?: boolean;
  /** When the proration lines were computed for, on a preview that has them. */
  prorationDate?: number;
}

/** The line billing the subscription's price for `period`; £0 during a trial. */
export function subscriptionLine(
  subscription: Subscription,
  period: { start: number; end: number },
  trial: boolean,
): InvoiceLineInput {
  const item = itemOf(subscription);
  const quantity = item.quantity ?? 1;
  const name = item.price.nickname ?? item.price.id;
  return {
    amount: trial ? 0 : (item.price.unit_amount ?? 0) * quantity,
    price: item.price,
    quantity,
    period,
    description: trial ? `Trial period for ${name}` : `${quantity} × ${name}`,
    proration: false,
  };
}

export function invoiceObject(input: NewInvoice): Invoice {
  const { subscription, customer } = input;
  const item = itemOf(subscription);
  const id = input.preview ? newId("upcoming_in") : newId("in");
  const sequence = customer.next_invoice_sequence ?? 1;
  if (!input.preview) customer.next_invoice_sequence = sequence + 1;
  const lines = input.lines.map((line): Wire<Stripe.InvoiceLineItem> => ({
    id: newId("il"),
    object: "line_item",
    amount: line.amount,
    currency: subscription.currency,
    description: line.description,
    discount_amounts: [],
    discountable: !line.proration,
    discounts: [],
    invoice: id,
    livemode: false,
    metadata: {},
    parent: {
      invoice_item_details: null,
      subscription_item_details: {
        invoice_item: null,
        proration: line.proration,
        proration_details: { credited_items: null },
        subscription: subscription.id,
        subscription_item: item.id,
      },
      type: "subscription_item_details",
    },
    period: line.period,
    pretax_credit_amounts: [],
    pricing: {
      price_details: { price: line.price.id, product: line.price.product as string },
      type: "price_details",
      unit_amount_decimal: String(line.quantity ? Math.round(line.amount / line.quantity) : 0),
    },
    quantity: line.quantity,
    quantity_decimal: String(line.quantity),
    subscription: subscription.id,
    subtotal: line.amount,
    taxes: [],
  }));
  const total = input.lines.reduce((sum, line) => sum + line.amount, 0);
  // A credit left on the customer's balance pays towards the invoice; an invoice that comes to
  // less than nothing leaves the rest as credit (ending_balance), as a downgrade does.
  const startingBalance = customer.balance ?? 0;
  const amountDue = Math.max(0, total + startingBalance);
  const endingBalance = input.preview ? null : Math.min(0, total + startingBalance);
  return {
    id,
    object: "invoice",
    account_country: "GB",
    account_name: "Stripe simulator",
    account_tax_ids: null,
    amount_due: amountDue,
    amount_overpaid: 0,
    amount_paid: 0,
    amount_remaining: amountDue,
    amount_shipping: 0,
    application: null,
    attempt_count: 0,
    attempted: false,
    auto_advance: false,
    automatic_tax: {
      disabled_reason: null,
      enabled: false,
      liability: null,
      provider: null,
      status: null,
    },
    automatically_finalizes_at: null,
    billing_reason: input.billingReason,
    collection_method: "charge_automatically",
    created: input.now,
    currency: subscription.currency,
    custom_fields: null,
    customer: customer.id,
    customer_account: null,
    customer_address: null,
    customer_email: customer.email,
    customer_name: customer.name ?? null,
    customer_phone: null,
    customer_shipping: null,
    customer_tax_exempt: "none",
    customer_tax_ids: [],
    default_payment_method: null,
    default_source: null,
    default_tax_rates: [],
    description: null,
    discounts: [],
    due_date: null,
    effective_at: input.now,
    ending_balance: endingBalance,
    footer: null,
    from_invoice: null,
    hosted_invoice_url: null,
    invoice_pdf: null,
    issuer: { type: "self" },
    last_finalization_error: null,
    latest_revision: null,
    lines: { object: "list", data: lines, has_more: false, url: `/v1/invoices/${id}/lines` },
    livemode: false,
    metadata: {},
    next_payment_attempt: null,
    number: input.preview
      ? null
      : `${customer.invoice_prefix}-${String(sequence).padStart(4, "0")}`,
    on_behalf_of: null,
    parent: {
      quote_details: null,
      subscription_details: {
        metadata: subscription.metadata,
        subscription: subscription.id,
        ...(input.prorationDate === undefined
          ? {}
          : { subscription_proration_date: input.prorationDate }),
      },
      type: "subscription_details",
    },
    payment_settings: {
      default_mandate: null,
      payment_method_options: null,
      payment_method_types: null,
    },
    period_end: input.period.end,
    period_start: input.period.start,
    post_payment_credit_notes_amount: 0,
    pre_payment_credit_notes_amount: 0,
    receipt_number: null,
    rendering: null,
    shipping_cost: null,
    shipping_details: null,
    starting_balance: startingBalance,
    statement_descriptor: null,
    status: input.preview ? "draft" : "open",
    status_transitions: {
      finalized_at: input.preview ? null : input.now,
      marked_uncollectible_at: null,
      paid_at: null,
      voided_at: null,
    },
    subtotal: total,
    subtotal_excluding_tax: total,
    test_clock: null,
    total,
    total_discount_amounts: [],
    total_excluding_tax: total,
    total_pretax_credit_amounts: [],
    total_taxes: [],
    webhooks_delivered_at: null,
  };
}

export function chargeObject(
  input: {
    invoice: Invoice;
    customer: Customer;
    now: number;
    description: string;
    paymentMethod: PaymentMethod;
  },
): Charge {
  return {
    id: newId("ch"),
    object: "charge",
    amount: input.invoice.amount_due,
    amount_captured: input.invoice.amount_due,
    amount_refunded: 0,
    application: null,
    application_fee: null,
    application_fee_amount: null,
    balance_transaction: null,
    billing_details: {
      address: null,
      email: input.customer.email,
      name: input.customer.name ?? null,
      phone: null,
      tax_id: null,
    },
    calculated_statement_descriptor: "STRIPE SIMULATOR",
    captured: true,
    created: input.now,
    currency: input.invoice.currency,
    customer: input.customer.id,
    description: input.description,
    disputed: false,
    failure_balance_transaction: null,
    failure_code: null,
    failure_message: null,
    fraud_details: {},
    livemode: false,
    metadata: {},
    on_behalf_of: null,
    outcome: {
      advice_code: null,
      network_advice_code: null,
      network_decline_code: null,
      network_status: "approved_by_network",
      reason: null,
      risk_level: "normal",
      seller_message: "Payment complete.",
      type: "authorized",
    },
    paid: true,
    payment_intent: null,
    payment_method: input.paymentMethod.id,
    payment_method_details: chargePaymentDetails(input.paymentMethod),
    receipt_email: input.customer.email,
    receipt_number: null,
    receipt_url: null,
    refunded: false,
    review: null,
    shipping: null,
    source: null,
    source_transfer: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: "succeeded",
    transfer_data: null,
    transfer_group: null,
  };
}

export interface NewCheckoutSession {
  url: (id: string) => string;
  price: Price;
  quantity: number;
  customer: Customer | null;
  customerEmail: string | null;
  clientReferenceId: string | null;
  successUrl: string;
  cancelUrl: string | null;
  allowPromotionCodes: boolean | null;
  trialPeriodDays: number | null;
  metadata: Metadata;
  now: number;
}

const CHECKOUT_LIFETIME_SECONDS = 24 * 3600;

export function checkoutSessionObject(input: NewCheckoutSession): CheckoutSession {
  const id = newId("cs_test");
  // With a trial nothing is due today: Stripe shows £0 and takes the card for later.
  const dueToday = input.trialPeriodDays ? 0 : (input.price.unit_amount ?? 0) * input.quantity;
  return {
    id,
    object: "checkout.session",
    adaptive_pricing: null,
    after_expiration: null,
    allow_promotion_codes: input.allowPromotionCodes,
    allowed_payment_method_types: null,
    amount_subtotal: dueToday,
    amount_total: dueToday,
    automatic_tax: { enabled: false, liability: null, provider: null, status: null },
    billing_address_collection: null,
    cancel_url: input.cancelUrl,
    client_reference_id: input.clientReferenceId,
    client_secret: null,
    collected_information: null,
    consent: null,
    consent_collection: null,
    created: input.now,
    currency: input.price.currency,
    currency_conversion: null,
    custom_fields: [],
    custom_text: {
      after_submit: null,
      shipping_address: null,
      submit: null,
      terms_of_service_acceptance: null,
    },
    customer: input.customer?.id ?? null,
    customer_account: null,
    customer_creation: null,
    customer_details: input.customer || input.customerEmail
      ? checkoutCustomerDetails(input.customer?.email ?? input.customerEmail)
      : null,
    customer_email: input.customerEmail,
    discounts: [],
    expires_at: input.now + CHECKOUT_LIFETIME_SECONDS,
    integration_identifier: null,
    invoice: null,
    invoice_creation: null,
    livemode: false,
    locale: null,
    managed_payments: null,
    metadata: input.metadata,
    mode: "subscription",
    origin_context: null,
    payment_intent: null,
    payment_link: null,
    payment_method_collection: "always",
    payment_method_configuration_details: null,
    payment_method_options: {},
    payment_method_types: ["card"],
    payment_status: "unpaid",
    permissions: null,
    recovered_from: null,
    saved_payment_method_options: null,
    setup_intent: null,
    shipping_address_collection: null,
    shipping_cost: null,
    shipping_options: [],
    status: "open",
    submit_type: null,
    subscription: null,
    success_url: input.successUrl,
    total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
    ui_mode: "hosted",
    url: input.url(id),
    wallet_options: null,
  };
}

export function checkoutCustomerDetails(
  email: string | null,
): NonNullable<CheckoutSession["customer_details"]> {
  return {
    address: null,
    business_name: null,
    email,
    individual_name: null,
    name: null,
    phone: null,
    tax_exempt: "none",
    tax_ids: [],
  };
}

export function checkoutLineItem(price: Price, quantity: number): CheckoutLineItem {
  const amount = (price.unit_amount ?? 0) * quantity;
  return {
    id: newId("li"),
    object: "item",
    adjustable_quantity: null,
    amount_discount: 0,
    amount_subtotal: amount,
    amount_tax: 0,
    amount_total: amount,
    currency: price.currency,
    description: price.nickname,
    metadata: {},
    price,
    quantity,
  };
}

export function portalSessionObject(
  input: {
    url: (id: string) => string;
    customer: string;
    returnUrl: string | null;
    configuration: string;
    flow: PortalFlow | null;
    now: number;
  },
): PortalSession {
  const id = newId("bps");
  return {
    id,
    object: "billing_portal.session",
    configuration: input.configuration,
    created: input.now,
    customer: input.customer,
    customer_account: null,
    flow: input.flow,
    livemode: false,
    locale: null,
    on_behalf_of: null,
    return_url: input.returnUrl,
    url: input.url(id),
  };
}
