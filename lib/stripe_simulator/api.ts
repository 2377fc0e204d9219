/**
 * The `/v1` API: the endpoints the app calls, answering as Stripe does — bearer key required,
 * form-encoded parameters checked strictly, JSON objects in the pinned version's shapes,
 * Stripe's error format, `Idempotency-Key` on POST, and `expand[]` for the fields that link
 * objects together. This module runs every call and serves customers, prices and events; the
 * other endpoints are grouped in `api_*.ts`.
 */
import { type Context, Hono } from "hono";
import { z } from "zod";
import { apiBillingRoutes } from "./api_billing.ts";
import { apiCheckoutRoutes } from "./api_checkout.ts";
import { apiPaymentRoutes } from "./api_payments.ts";
import { email, type EndpointFactory, found, retrieveParams } from "./api_support.ts";
import { createCustomer, deleteCustomer } from "./billing.ts";
import { catchUp } from "./clock.ts";
import { injectedFailure, invalidRequest, StripeApiError } from "./errors.ts";
import { createIdempotencyKeys, requestFingerprint } from "./idempotency.ts";
import { newId } from "./ids.ts";
import { deletedCustomerObject, SIMULATED_API_VERSION } from "./objects.ts";
import {
  applyMetadata,
  decodeParams,
  expandParam,
  formMetadata,
  formString,
  type Params,
  parseParams,
} from "./params.ts";
import type { Store } from "./store.ts";

const customerCreateParams = z.strictObject({
  email: email.optional(),
  name: formString(256).optional(),
  description: formString(350).optional(),
  metadata: formMetadata.optional(),
  expand: expandParam,
});

export function apiRoutes(store: Store, apiKey: string): Hono {
  const idempotency = createIdempotencyKeys(store.now);
  const api = new Hono();

  /**
   * Run one API call. From the idempotency check to saving the answer nothing awaits, so two
   * concurrent requests with the same key cannot both execute.
   */
  const endpoint: EndpointFactory = (schema, handler) => {
    return async (c: Context): Promise<Response> => {
      const requestId = newId("req");
      const headers = {
        "content-type": "application/json",
        "request-id": requestId,
        "stripe-version": SIMULATED_API_VERSION,
      };
      try {
        authenticate(c.req.header("authorization"), apiKey);
        const failures = store.requestFailures;
        if (
          failures.remaining > 0 &&
          (!failures.match || `${c.req.method} ${c.req.path}`.startsWith(failures.match))
        ) {
          store.requestFailures.remaining -= 1;
          // Each injected failure reaches the caller: the SDK is told not to retry it.
          const failure = injectedFailure(store.requestFailures.status);
          return new Response(JSON.stringify(failure), {
            status: failure.status,
            headers: { ...headers, "stripe-should-retry": "false" },
          });
        }
        checkVersion(c.req.header("stripe-version"));
        catchUp(store);
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
  };

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
    endpoint(retrieveParams, (_, call) => {
      if (store.deletedCustomers.has(call.id)) return deletedCustomerObject(call.id);
      return found(store.customers, "cus", call.id);
    }),
  );

  api.delete(
    "/v1/customers/:id",
    endpoint(z.strictObject({}), (_, call) => {
      const customer = found(store.customers, "cus", call.id);
      deleteCustomer(store, customer, call.request);
      return deletedCustomerObject(customer.id);
    }),
  );

  api.get(
    "/v1/prices/:id",
    endpoint(retrieveParams, (_, call) => found(store.prices, "price", call.id)),
  );

  api.get(
    "/v1/events/:id",
    endpoint(retrieveParams, (_, call) => found(store.events, "evt", call.id)),
  );

  apiCheckoutRoutes(api, endpoint, store);
  apiBillingRoutes(api, endpoint, store);
  apiPaymentRoutes(api, endpoint, store);

  api.all("/v1/*", (c) => {
    const error = invalidRequest(
      `Unrecognized request URL (${c.req.method}: ${c.req.path}). Please see ` +
        "https://stripe.com/docs or we can help at https://support.stripe.com/.",
    );
    return c.json(error, 404);
  });

  return api;
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

const EXPANDABLE = new Set([
  "customer",
  "subscription",
  "latest_invoice",
  "invoice",
  "charge",
  "payment_method",
  "default_payment_method",
]);

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
      store.invoices.get(id) ?? store.charges.get(id) ?? store.paymentMethods.get(id);
    if (linked) copy[path] = structuredClone(linked);
  }
  return copy;
}
