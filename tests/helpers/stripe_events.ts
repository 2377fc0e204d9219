/**
 * Stripe events for webhook tests, in Stripe's shapes, signed with the SDK's own test-header
 * helper so the app's signature check runs for real.
 */
import Stripe from "stripe";
import type { TestApp } from "./app.ts";

export const WEBHOOK_SECRET = "whsec_webhook_tests_0123456789";
const cryptoProvider = Stripe.createSubtleCryptoProvider();
let counter = 0;

export interface TestEvent {
  id: string;
  object: "event";
  type: string;
  created: number;
  api_version: string;
  livemode: false;
  data: { object: Record<string, unknown> };
}

export function stripeEvent(
  type: string,
  object: Record<string, unknown>,
  options: { id?: string; created?: number } = {},
): TestEvent {
  counter += 1;
  return {
    id: options.id ?? `evt_test_${Date.now().toString(36)}_${counter}`,
    object: "event",
    type,
    created: options.created ?? Math.floor(Date.now() / 1000),
    api_version: Stripe.API_VERSION,
    livemode: false,
    data: { object },
  };
}

export function subscriptionObject(
  id: string,
  customer: string,
  status: string,
  extra: Record<string, unknown> = {},
) {
  return {
    id,
    object: "subscription",
    customer,
    status,
    trial_end: null,
    cancel_at_period_end: false,
    ...extra,
  };
}

export function checkoutSessionObject(extra: Record<string, unknown>) {
  return { id: `cs_test_${++counter}`, object: "checkout.session", mode: "subscription", ...extra };
}

export function invoiceObject(
  customer: string,
  amountPaid: number,
  billingReason: string,
  subscription = "sub_test",
) {
  return {
    id: `in_test_${++counter}`,
    object: "invoice",
    customer,
    amount_paid: amountPaid,
    billing_reason: billingReason,
    status: "paid",
    parent: { type: "subscription_details", subscription_details: { subscription } },
  };
}

export async function signedHeaders(
  body: string,
  options: { secret?: string; timestamp?: number } = {},
): Promise<Record<string, string>> {
  const signature = await Stripe.webhooks.generateTestHeaderStringAsync({
    payload: body,
    secret: options.secret ?? WEBHOOK_SECRET,
    timestamp: options.timestamp,
    cryptoProvider,
  });
  return { "content-type": "application/json", "stripe-signature": signature };
}

/** POST an event (or a raw body) to the webhook, signed. */
export async function deliver(
  app: TestApp,
  event: TestEvent | string,
  options: { secret?: string; timestamp?: number } = {},
): Promise<Response> {
  const body = typeof event === "string" ? event : JSON.stringify(event);
  return await app.fetch("/api/stripe/webhook", {
    method: "POST",
    headers: await signedHeaders(body, options),
    body,
  });
}

/** Deliver and return the JSON answer's `status` field, asserting HTTP 200. */
export async function deliverOk(
  app: TestApp,
  event: TestEvent,
  options: { secret?: string } = {},
): Promise<string> {
  const response = await deliver(app, event, options);
  const body = await response.json();
  if (response.status !== 200) {
    throw new Error(`webhook answered ${response.status}: ${JSON.stringify(body)}`);
  }
  return body.status;
}
