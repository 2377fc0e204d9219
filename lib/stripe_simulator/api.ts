/**
 * The `/v1` API: the endpoints the app calls, answering as Stripe does — bearer key required,
 * form-encoded parameters checked strictly, JSON objects in the pinned version's shapes,
 * Stripe's error format, `Idempotency-Key` on POST, and `expand[]` for the fields that link
 * objects together.
 */
import { type Context, Hono } from "hono";
import { z } from "zod";
import { cancelSubscription, createCustomer, updateSubscription } from "./billing.ts";
import { invalidRequest, noSuch, StripeApiError } from "./errors.ts";
import type { EventRequest } from "./events.ts";
import { createIdempotencyKeys, requestFingerprint } from "./idempotency.ts";
import { newId } from "./ids.ts";
import {
  checkoutLineItem,
  checkoutSessionObject,
  portalSessionObject,
  SIMULATED_API_VERSION,
} from "./objects.ts";
import {
  applyMetadata,
  decodeParams,
  expandParam,
  formArray,
  formBoolean,
  formInteger,
  formMetadata,
  formString,
  formUrl,
  isEmailAddress,
  type Params,
  parseParams,
} from "./params.ts";
import type { Store } from "./store.ts";

const email = formString(512).refine(isEmailAddress, {
  error: (issue) => `Invalid email address: ${issue.input}`,
});

const retrieveParams = z.strictObject({ expand: expandParam });

const customerCreateParams = z.strictObject({
  email: email.optional(),
  name: formString(256).optional(),
  description: formString(350).optional(),
  metadata: formMetadata.optional(),
  expand: expandParam,
});

const checkoutCreateParams = z.strictObject({
  mode: z.enum(["payment", "setup", "subscription"]),
  line_items: formArray(z.strictObject({
    price: formString(),
    quantity: formInteger({ min: 1, max: 999_999 }),
  })),
  customer: formString().optional(),
  customer_email: email.optional(),
  client_reference_id: formString(200).optional(),
  success_url: formUrl,
  cancel_url: formUrl.optional(),
  allow_promotion_codes: formBoolean.optional(),
  subscription_data: z.strictObject({
    trial_period_days: formInteger({ min: 1, max: 730 }).optional(),
    metadata: formMetadata.optional(),
  }).optional(),
  metadata: formMetadata.optional(),
  expand: expandParam,
});

const portalCreateParams = z.strictObject({
  customer: formString(),
  return_url: formUrl.optional(),
  expand: expandParam,
});

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

const subscriptionUpdateParams = z.strictObject({
  cancel_at_period_end: formBoolean.optional(),
  trial_end: z.union([z.literal("now"), formInteger({ min: 0, max: 2 ** 31 })]).optional(),
  metadata: formMetadata.optional(),
  cancellation_details: cancellationDetails.optional(),
  expand: expandParam,
});

const subscriptionCancelParams = z.strictObject({
  cancellation_details: cancellationDetails.optional(),
  expand: expandParam,
});

/** What a handler gets besides its parameters. */
interface ApiCall {
  /** The object id in the URL path, for `/v1/…/:id` routes. */
  id: string;
  origin: string;
  request: EventRequest;
}

type Handler<S extends z.ZodType> = (params: z.output<S>, call: ApiCall) => object;

export function apiRoutes(store: Store, apiKey: string): Hono {
  const idempotency = createIdempotencyKeys(store.now);
  const api = new Hono();

  /**
   * Run one API call. From the idempotency check to saving the answer nothing awaits, so two
   * concurrent requests with the same key cannot both execute.
   */
  function endpoint<S extends z.ZodType>(schema: S, handler: Handler<S>) {
    return async (c: Context): Promise<Response> => {
      const requestId = newId("req");
      const headers = {
        "content-type": "application/json",
        "request-id": requestId,
        "stripe-version": SIMULATED_API_VERSION,
      };
      try {
        authenticate(c.req.header("authorization"), apiKey);
        checkVersion(c.req.header("stripe-version"));
        const raw = await readParams(c.req.raw);
        const key = c.req.method === "POST" ? c.req.header("idempotency-key") ?? null : null;
        const fingerprint = requestFingerprint(c.req.method, c.req.path, raw);
        const saved = key ? idempotency.replay(key, fingerprint) : null;
        if (saved) {
          return new Response(saved.body, {
            status: saved.status,
            headers: { ...headers, "idempotent-replayed": "true" },
          });
        }
        const params = parseParams(schema, raw);
        const call = {
          id: c.req.param("id") ?? "",
          origin: new URL(c.req.url).origin,
          request: { id: requestId, idempotency_key: key },
        };
        const object = handler(params, call);
        const body = JSON.stringify(
          expand(store, object, (params as { expand?: string[] }).expand),
        );
        if (key) idempotency.save(key, fingerprint, { status: 200, body });
        return new Response(body, { status: 200, headers });
      } catch (error) {
        if (!(error instanceof StripeApiError)) throw error;
        return new Response(JSON.stringify(error), { status: error.status, headers });
      }
    };
  }

  api.post(
    "/v1/customers",
    endpoint(customerCreateParams, (params, call) =>
      createCustomer(store, {
        email: params.email ?? null,
        name: params.name ?? null,
        metadata: applyMetadata({}, params.metadata),
      }, call.request)),
  );

  api.get(
    "/v1/customers/:id",
    endpoint(retrieveParams, (_, call) => found(store.customers, "cus", call.id)),
  );

  api.get(
    "/v1/prices/:id",
    endpoint(retrieveParams, (_, call) => found(store.prices, "price", call.id)),
  );

  api.post(
    "/v1/checkout/sessions",
    endpoint(checkoutCreateParams, (params, call) => {
      if (params.mode !== "subscription") {
        throw invalidRequest("The Stripe simulator supports only mode=subscription.", "mode");
      }
      if (params.line_items.length !== 1) {
        throw invalidRequest(
          "The Stripe simulator sells exactly one price per subscription checkout.",
          "line_items",
        );
      }
      if (params.customer && params.customer_email) {
        throw invalidRequest(
          "You may only specify one of these parameters: customer, customer_email.",
          "customer_email",
        );
      }
      const [item] = params.line_items;
      const price = store.prices.get(item.price);
      if (!price) throw noSuch("price", item.price, "line_items[0][price]");
      if (!price.recurring) {
        throw invalidRequest(
          "You must provide at least one recurring price in `subscription` mode when using prices.",
          "line_items[0][price]",
        );
      }
      const customer = params.customer ? store.customers.get(params.customer) : null;
      if (params.customer && !customer) throw noSuch("cus", params.customer, "customer");
      const lineItem = checkoutLineItem(price, item.quantity);
      const session = checkoutSessionObject({
        url: (sessionId) => `${call.origin}/checkout/${sessionId}`,
        price,
        quantity: item.quantity,
        customer: customer ?? null,
        customerEmail: params.customer_email ?? null,
        clientReferenceId: params.client_reference_id ?? null,
        successUrl: params.success_url,
        cancelUrl: params.cancel_url ?? null,
        allowPromotionCodes: params.allow_promotion_codes ?? null,
        trialPeriodDays: params.subscription_data?.trial_period_days ?? null,
        metadata: applyMetadata({}, params.metadata),
        now: store.nowUnix(),
      });
      store.checkouts.set(session.id, {
        session,
        lineItem,
        trialPeriodDays: params.subscription_data?.trial_period_days ?? null,
        subscriptionMetadata: applyMetadata({}, params.subscription_data?.metadata),
      });
      return session;
    }),
  );

  api.get(
    "/v1/checkout/sessions/:id",
    endpoint(retrieveParams, (_, call) => {
      const record = store.checkouts.get(call.id);
      if (!record) throw noSuch("cs", call.id);
      return record.session;
    }),
  );

  api.post(
    "/v1/billing_portal/sessions",
    endpoint(portalCreateParams, (params, call) => {
      if (!store.customers.has(params.customer)) {
        throw noSuch("cus", params.customer, "customer");
      }
      const session = portalSessionObject({
        url: (sessionId) => `${call.origin}/portal/${sessionId}`,
        customer: params.customer,
        returnUrl: params.return_url ?? null,
        now: store.nowUnix(),
      });
      store.portalSessions.set(session.id, session);
      return session;
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

  api.get(
    "/v1/events/:id",
    endpoint(retrieveParams, (_, call) => found(store.events, "evt", call.id)),
  );

  api.all("/v1/*", (c) => {
    const error = invalidRequest(
      `Unrecognized request URL (${c.req.method}: ${c.req.path}). Please see ` +
        "https://stripe.com/docs or we can help at https://support.stripe.com/.",
    );
    return c.json(error, 404);
  });

  return api;
}

function found<T>(objects: Map<string, T>, kind: Parameters<typeof noSuch>[0], id: string): T {
  const object = objects.get(id);
  if (!object) throw noSuch(kind, id);
  return object;
}

/** Bearer auth as the SDK sends it; Basic (`curl -u sk_…:`) works too, as at Stripe. */
function authenticate(header: string | undefined, apiKey: string): void {
  const [scheme, credentials] = (header ?? "").split(" ", 2);
  const key = scheme === "Bearer"
    ? credentials
    : scheme === "Basic" && credentials
    ? atob(credentials).split(":")[0]
    : undefined;
  if (!key) {
    throw new StripeApiError(
      401,
      "invalid_request_error",
      "You did not provide an API key. You need to provide your API key in the Authorization " +
        "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
    );
  }
  if (key !== apiKey) {
    throw new StripeApiError(
      401,
      "invalid_request_error",
      `Invalid API Key provided: ${key.slice(0, 8)}****${key.slice(-4)}`,
    );
  }
}

/** The simulator speaks one version; a different one would expect other shapes. */
function checkVersion(version: string | undefined): void {
  if (version !== undefined && version !== SIMULATED_API_VERSION) {
    throw invalidRequest(
      `The Stripe simulator answers in API version ${SIMULATED_API_VERSION} only; this request ` +
        `asked for ${version}.`,
      "Stripe-Version",
    );
  }
}

/** GET and DELETE carry parameters in the query string, POST in a form-encoded body. */
async function readParams(request: Request): Promise<Params> {
  if (request.method === "GET" || request.method === "DELETE") {
    return decodeParams(new URL(request.url).searchParams);
  }
  const body = await request.text();
  if (!body) return {};
  const type = request.headers.get("content-type") ?? "";
  if (!type.startsWith("application/x-www-form-urlencoded")) {
    throw invalidRequest(
      `Invalid request: unsupported Content-Type ${type || "(none)"}. Send parameters ` +
        "form-encoded (application/x-www-form-urlencoded).",
    );
  }
  return decodeParams(new URLSearchParams(body));
}

const EXPANDABLE = new Set(["customer", "subscription", "latest_invoice", "invoice"]);

/** A copy of `object` with the requested links replaced by the objects they name. */
function expand(store: Store, object: object, paths: string[] | undefined): object {
  if (!paths?.length) return object;
  const copy = structuredClone(object) as Record<string, unknown>;
  for (const path of paths) {
    if (path === "line_items" && copy.object === "checkout.session") {
      const record = store.checkouts.get(copy.id as string)!;
      copy.line_items = {
        object: "list",
        data: [record.lineItem],
        has_more: false,
        url: `/v1/checkout/sessions/${record.session.id}/line_items`,
      };
      continue;
    }
    if (!EXPANDABLE.has(path) || !(path in copy)) {
      throw invalidRequest(`This property cannot be expanded (${path}).`, "expand");
    }
    const id = copy[path];
    if (typeof id !== "string") continue;
    const linked = store.customers.get(id) ?? store.subscriptions.get(id) ??
      store.invoices.get(id);
    if (linked) copy[path] = structuredClone(linked);
  }
  return copy;
}
