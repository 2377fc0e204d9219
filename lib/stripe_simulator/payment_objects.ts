/**
 * The objects money moves through, in Stripe's shapes: payment methods (a test card or the test
 * bank account), the record linking an invoice to the charge that paid it, refunds and disputes.
 * Like `objects.ts`, each factory is typed against the SDK's own definitions.
 */
import type Stripe from "stripe";
import { type CardBrand, fingerprint, TEST_BANK_ACCOUNT, type TestCard } from "./cards.ts";
import { newId } from "./ids.ts";
import type { Charge, Customer, Invoice, Metadata, Wire } from "./objects.ts";

export type PaymentMethod = Wire<Stripe.PaymentMethod>;
export type InvoicePayment = Wire<Stripe.InvoicePayment>;
export type Refund = Wire<Stripe.Refund>;
export type Dispute = Wire<Stripe.Dispute>;
export type ChargePaymentDetails = Wire<Stripe.Charge.PaymentMethodDetails>;

export type MissingPaymentMethod = "cancel" | "create_invoice" | "pause";

/** How the payer paid on the hosted checkout page. */
export type PaymentChoice = { type: "card"; card: TestCard } | { type: "bacs_debit" };

/** Test cards expire at the end of next year, so none expires during a test. */
function expiryYear(now: number): number {
  return new Date(now * 1000).getUTCFullYear() + 2;
}

export function paymentMethodObject(
  input: { choice: PaymentChoice; customer: Customer; now: number },
): PaymentMethod {
  const { choice, customer, now } = input;
  const base = {
    id: newId("pm"),
    object: "payment_method" as const,
    allow_redisplay: "always" as const,
    billing_details: {
      address: null,
      email: customer.email,
      name: customer.name ?? null,
      phone: null,
      tax_id: null,
    },
    created: now,
    customer: customer.id,
    customer_account: null,
    livemode: false,
    metadata: {},
  };
  if (choice.type === "bacs_debit") {
    return {
      ...base,
      type: "bacs_debit",
      bacs_debit: {
        fingerprint: fingerprint(
          `bacs:${TEST_BANK_ACCOUNT.sortCode}:${TEST_BANK_ACCOUNT.accountNumber}`,
        ),
        last4: TEST_BANK_ACCOUNT.accountNumber.slice(-4),
        sort_code: TEST_BANK_ACCOUNT.sortCode,
      },
    };
  }
  return {
    ...base,
    type: "card",
    card: {
      brand: choice.card.brand,
      checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: "pass" },
      country: choice.card.brand === "amex" ? "US" : "GB",
      display_brand: choice.card.brand === "amex" ? "american_express" : choice.card.brand,
      exp_month: 12,
      exp_year: expiryYear(now),
      fingerprint: fingerprint(`card:${choice.card.number}`),
      funding: "credit",
      generated_from: null,
      last4: choice.card.number.slice(-4),
      networks: { available: [choice.card.brand], preferred: null },
      regulated_status: "unregulated",
      three_d_secure_usage: { supported: true },
      wallet: null,
    },
  };
}

/** What a charge records of the payment method it used. */
export function chargePaymentDetails(method: PaymentMethod): ChargePaymentDetails {
  if (method.type === "bacs_debit") {
    return {
      type: "bacs_debit",
      bacs_debit: {
        fingerprint: method.bacs_debit!.fingerprint,
        last4: method.bacs_debit!.last4,
        mandate: null,
        sort_code: method.bacs_debit!.sort_code,
      },
    };
  }
  const card = method.card!;
  return {
    type: "card",
    card: {
      amount_authorized: null,
      authorization_code: null,
      brand: card.brand as CardBrand,
      checks: card.checks,
      country: card.country,
      electronic_commerce_indicator: null,
      exp_month: card.exp_month,
      exp_year: card.exp_year,
      fingerprint: card.fingerprint,
      funding: card.funding,
      installments: null,
      last4: card.last4,
      mandate: null,
      network: card.brand,
      network_token: null,
      network_transaction_id: null,
      regulated_status: "unregulated",
      three_d_secure: null,
      transaction_link_id: null,
      wallet: null,
    },
  };
}

export function invoicePaymentObject(
  input: { invoice: Invoice; charge: Charge; now: number },
): InvoicePayment {
  return {
    id: newId("inpay"),
    object: "invoice_payment",
    amount_paid: input.charge.amount,
    amount_requested: input.invoice.amount_due,
    created: input.now,
    currency: input.invoice.currency,
    invoice: input.invoice.id,
    is_default: true,
    livemode: false,
    payment: { type: "charge", charge: input.charge.id },
    status: "paid",
    status_transitions: { canceled_at: null, paid_at: input.now },
  };
}

export function refundObject(
  input: {
    charge: Charge;
    amount: number;
    metadata: Metadata;
    reason: RefundReason | null;
    now: number;
  },
): Refund {
  return {
    id: newId("re"),
    object: "refund",
    amount: input.amount,
    balance_transaction: null,
    charge: input.charge.id,
    created: input.now,
    currency: input.charge.currency,
    customer: input.charge.customer as string | null,
    customer_account: null,
    destination_details: {
      type: input.charge.payment_method_details?.type ?? "card",
    },
    metadata: input.metadata,
    payment_intent: input.charge.payment_intent as string | null,
    payment_method: input.charge.payment_method,
    reason: input.reason,
    receipt_number: null,
    source_transfer_reversal: null,
    status: "succeeded",
    transfer_reversal: null,
  };
}

export type RefundReason = "duplicate" | "fraudulent" | "requested_by_customer";

export type DisputeReason =
  | "fraudulent"
  | "duplicate"
  | "product_not_received"
  | "subscription_canceled"
  | "unrecognized"
  | "general";

const EVIDENCE_DAYS = 21;

export function disputeObject(
  input: { charge: Charge; reason: DisputeReason; now: number },
): Dispute {
  const { charge } = input;
  return {
    id: newId("dp"),
    object: "dispute",
    amount: charge.amount - charge.amount_refunded,
    balance_transactions: [],
    charge: charge.id,
    created: input.now,
    currency: charge.currency,
    enhanced_eligibility_types: [],
    evidence: {
      access_activity_log: null,
      billing_address: null,
      cancellation_policy: null,
      cancellation_policy_disclosure: null,
      cancellation_rebuttal: null,
      customer_communication: null,
      customer_email_address: null,
      customer_name: null,
      customer_purchase_ip: null,
      customer_signature: null,
      duplicate_charge_documentation: null,
      duplicate_charge_explanation: null,
      duplicate_charge_id: null,
      enhanced_evidence: {},
      product_description: null,
      receipt: null,
      refund_policy: null,
      refund_policy_disclosure: null,
      refund_refusal_explanation: null,
      service_date: null,
      service_documentation: null,
      shipping_address: null,
      shipping_carrier: null,
      shipping_date: null,
      shipping_documentation: null,
      shipping_tracking_number: null,
      uncategorized_file: null,
      uncategorized_text: null,
    },
    evidence_details: {
      due_by: input.now + EVIDENCE_DAYS * 24 * 3600,
      enhanced_eligibility: {},
      has_evidence: false,
      past_due: false,
      submission_count: 0,
      submission_method: "not_submitted",
    },
    intended_submission_method: null,
    is_charge_refundable: false,
    livemode: false,
    metadata: {},
    payment_intent: charge.payment_intent as string | null,
    reason: input.reason,
    status: "needs_response",
  };
}
