/**
 * `/v1/subscriptions`, `/v1/invoices` and `/v1/invoice_payments`: what a customer pays for, what
 * they were billed, and which charge paid each invoice.
 */
import type { Hono } from "hono";
import { z } from "zod";
import {
  customerParam,
  type EndpointFactory,
  found,
  listPage,
  listParams,
  retrieveParams,
} from "./api_support.ts";
import { cancelSubscription, type PriceChangeRequest, updateSubscription } from "./billing.ts";
import { subscriptionOf } from "./collection.ts";
import { invalidRequest, noSuch } from "./errors.ts";
import type { Subscription } from "./objects.ts";
import {
  applyMetadata,
  expandParam,
  formArray,
  formBoolean,
  formInteger,
  formMetadata,
  formString,
} from "./params.ts";
import { previewPriceChange, previewRenewal } from "./proration.ts";
import type { Store } from "./store.ts";

const cancellationDetails = z.strictObject({
  comment: z.string().max(5000).optional(),
  feedback: z.enum([
    "customer_service",
    "low_quality",
    "missing_features",
    "other",
    "switched_service",
    "too_complex",
    "too_expensive",
    "unused",
  ]).optional(),
});

const prorationBehavior = z.enum(["always_invoice", "create_prorations", "none"]);
const timestamp = formInteger({ min: 0, max: 2 ** 31 });
const itemChange = z.strictObject({ id: formString(), price: formString() });

const subscriptionUpdateParams = z.strictObject({
  cancel_at_period_end: formBoolean.optional(),
  trial_end: z.union([z.literal("now"), timestamp]).optional(),
  items: formArray(itemChange).optional(),
  proration_behavior: prorationBehavior.optional(),
  proration_date: timestamp.optional(),
  metadata: formMetadata.optional(),
  cancellation_details: cancellationDetails.optional(),
  expand: expandParam,
});

const subscriptionCancelParams = z.strictObject({
  cancellation_details: cancellationDetails.optional(),
  expand: expandParam,
});

const SUBSCRIPTION_STATUSES = [
  "active",
  "past_due",
  "unpaid",
  "canceled",
  "incomplete",
  "incomplete_expired",
  "trialing",
  "paused",
] as const;

const subscriptionListParams = z.strictObject({
  ...listParams,
  customer: formString().optional(),
  price: formString().optional(),
  status: z.enum([...SUBSCRIPTION_STATUSES, "all", "ended"]).optional(),
});

const invoiceListParams = z.strictObject({
  ...listParams,
  customer: formString().optional(),
  subscription: formString().optional(),
  status: z.enum(["draft", "open", "paid", "uncollectible", "void"]).optional(),
});

const invoicePaymentListParams = z.strictObject({
  ...listParams,
  invoice: formString().optional(),
  status: z.enum(["canceled", "open", "paid"]).optional(),
});

const previewParams = z.strictObject({
  customer: formString().optional(),
  subscription: formString().optional(),
  subscription_details: z.strictObject({
    items: formArray(itemChange).optional(),
    proration_behavior: prorationBehavior.optional(),
    proration_date: timestamp.optional(),
  }).optional(),
  expand: expandParam,
});

export function apiBillingRoutes(api: Hono, endpoint: EndpointFactory, store: Store): void {
  api.get(
    "/v1/subscriptions",
    endpoint(subscriptionListParams, (params) => {
      if (params.customer) customerParam(store, params.customer);
      const wanted = (subscription: Subscription) => {
        const status = subscription.status;
        if (params.status === undefined) return status !== "canceled";
        if (params.status === "all") return true;
        if (params.status === "ended") {
          return status === "canceled" || status === "incomplete_expired";
        }
        return status === params.status;
      };
      const subscriptions = [...store.subscriptions.values()].filter((subscription) =>
        (!params.customer || subscription.customer === params.customer) &&
        (!params.price || subscription.items.data[0].price.id === params.price) &&
        wanted(subscription)
      );
      return listPage(subscriptions, params, "/v1/subscriptions");
    }),
  );

  api.get(
    "/v1/subscriptions/:id",
    endpoint(retrieveParams, (_, call) => found(store.subscriptions, "sub", call.id)),
  );

  api.post(
    "/v1/subscriptions/:id",
    endpoint(subscriptionUpdateParams, (params, call) => {
      const subscription = found(store.subscriptions, "sub", call.id);
      return updateSubscription(store, subscription, {
        cancelAtPeriodEnd: params.cancel_at_period_end,
        trialEnd: params.trial_end,
        priceChange: params.items && priceChangeRequest(store, params, "items"),
        prorationBehavior: params.proration_behavior,
        metadata: params.metadata === undefined
          ? undefined
          : applyMetadata(subscription.metadata, params.metadata),
        cancellationDetails: params.cancellation_details,
      }, call.request);
    }),
  );

  api.delete(
    "/v1/subscriptions/:id",
    endpoint(subscriptionCancelParams, (params, call) => {
      const subscription = found(store.subscriptions, "sub", call.id);
      return cancelSubscription(store, subscription, call.request, params.cancellation_details);
    }),
  );

  api.post(
    "/v1/invoices/create_preview",
    endpoint(previewParams, (params) => {
      if (!params.subscription) {
        throw invalidRequest(
          "The Stripe simulator previews invoices of an existing subscription: pass subscription.",
          "subscription",
          "parameter_missing",
        );
      }
      const subscription = store.subscriptions.get(params.subscription);
      if (!subscription) throw noSuch("sub", params.subscription, "subscription");
      if (params.customer && params.customer !== subscription.customer) {
        customerParam(store, params.customer);
        throw invalidRequest(
          `Subscription ${subscription.id} does not belong to customer ${params.customer}.`,
          "subscription",
        );
      }
      if (subscription.status === "canceled" || subscription.status === "incomplete_expired") {
        throw invalidRequest(
          `No upcoming invoices for subscription ${subscription.id}: it has ended.`,
          "subscription",
          "invoice_upcoming_none",
        );
      }
      const details = params.subscription_details;
      if (!details?.items) return previewRenewal(store, subscription);
      const request = priceChangeRequest(store, details, "subscription_details[items]");
      if (request.itemId !== subscription.items.data[0].id) {
        throw invalidRequest(
          `No such subscription item: '${request.itemId}'`,
          "subscription_details[items][0][id]",
          "resource_missing",
        );
      }
      return previewPriceChange(store, subscription, {
        price: request.price,
        prorationBehavior: request.prorationBehavior,
        prorationDate: request.prorationDate ?? store.nowUnix(),
      });
    }),
  );

  api.get(
    "/v1/invoices",
    endpoint(invoiceListParams, (params) => {
      if (params.customer) customerParam(store, params.customer);
      if (params.subscription && !store.subscriptions.has(params.subscription)) {
        throw noSuch("sub", params.subscription, "subscription");
      }
      const invoices = [...store.invoices.values()].filter((invoice) =>
        (!params.customer || invoice.customer === params.customer) &&
        (!params.subscription || subscriptionOf(invoice) === params.subscription) &&
        (!params.status || invoice.status === params.status)
      );
      return listPage(invoices, params, "/v1/invoices");
    }),
  );

  api.get(
    "/v1/invoices/:id",
    endpoint(retrieveParams, (_, call) => found(store.invoices, "in", call.id)),
  );

  api.get(
    "/v1/invoice_payments",
    endpoint(invoicePaymentListParams, (params) => {
      if (params.invoice && !store.invoices.has(params.invoice)) {
        throw noSuch("in", params.invoice, "invoice");
      }
      const payments = [...store.invoicePayments.values()].filter((payment) =>
        (!params.invoice || payment.invoice === params.invoice) &&
        (!params.status || payment.status === params.status)
      );
      return listPage(payments, params, "/v1/invoice_payments");
    }),
  );
}

/** `items[0][id]` and `items[0][price]`: the one item, and the catalog price it moves to. */
function priceChangeRequest(
  store: Store,
  params: {
    items?: { id: string; price: string }[];
    proration_behavior?: z.output<typeof prorationBehavior>;
    proration_date?: number;
  },
  param: string,
): PriceChangeRequest {
  const items = params.items!;
  if (items.length !== 1) {
    throw invalidRequest("The Stripe simulator's subscriptions have exactly one item.", param);
  }
  const price = store.prices.get(items[0].price);
  if (!price) throw noSuch("price", items[0].price, `${param}[0][price]`);
  return {
    itemId: items[0].id,
    price,
    prorationBehavior: params.proration_behavior ?? "create_prorations",
    prorationDate: params.proration_date,
  };
}
