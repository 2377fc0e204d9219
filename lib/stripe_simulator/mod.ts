/**
 * The Stripe simulator: a Stripe-compatible API, hosted checkout and portal pages, and signed
 * webhook deliveries, served in-process on its own loopback port. The app runs on it in
 * development when no STRIPE_API_KEY is set, and tests drive it through the real `stripe` SDK.
 * It keeps its state in memory and is never loaded in production (see `lib/stripe/backend.ts`).
 */
import { Hono } from "hono";
import { csrf } from "hono/csrf";
import { HTTPException } from "hono/http-exception";
import type { Logger } from "../log.ts";
import { SIMULATED_PRICE_ANNUAL, SIMULATED_PRICE_MONTHLY } from "./catalog.ts";
import { apiRoutes } from "./api.ts";
import { checkSettings, createTestControls, type TestControls } from "./controls.ts";
import { StripeApiError } from "./errors.ts";
import { randomToken } from "./ids.ts";
import { checkoutRoutes } from "./pages/checkout.tsx";
import { dashboardRoutes } from "./pages/dashboard.tsx";
import { portalRoutes } from "./pages/portal.tsx";
import { type AfterFailedRetries, createStore, DEFAULT_SETTINGS } from "./store.ts";
import { createWebhookSender, DEFAULT_RETRY_DELAYS_MS } from "./webhooks.ts";

export { SIMULATED_PRICE_ANNUAL, SIMULATED_PRICE_MONTHLY } from "./catalog.ts";
export type { DeliveryAttempt } from "./webhooks.ts";
export type { SimulatedEvent, SimulatedEventType } from "./events.ts";
export type { TestControls } from "./controls.ts";
export type { AfterFailedRetries, SimulatorSettings } from "./store.ts";
export { SimulatorError } from "./errors.ts";

export interface StripeSimulatorOptions {
  log: Logger;
  /** The clock the simulator starts from; test controls move it further. */
  now?: () => Date;
  /** Signs webhook deliveries; generated when omitted. */
  webhookSecret?: string;
  /** Waits before each webhook retry; tests pass milliseconds. */
  retryDelaysMs?: readonly number[];
  /**
   * After a payment's last retry fails: cancel the subscription (Stripe's default), mark it
   * `unpaid`, or leave it `past_due`.
   */
  afterFailedRetries?: AfterFailedRetries;
  /** Days after the previous attempt for each retry of a failed payment; default 3, 5, 7. */
  retrySchedule?: readonly number[];
  /** Days before a renewal that `invoice.upcoming` is sent; default 7. */
  upcomingInvoiceDays?: number;
}

export interface StripeSimulator extends TestControls {
  /** Origin of the API and hosted pages, e.g. `http://127.0.0.1:53121`. */
  url: string;
  apiKey: string;
  webhookSecret: string;
  prices: { monthly: string; annual: string };
  /** The simulator's clock, including any advance by the test controls. */
  now(): Date;
  /** Where events are POSTed from now on; null stops deliveries. */
  setWebhookUrl(url: string | null): void;
  /** Stop serving and cancel pending deliveries. */
  close(): Promise<void>;
}

export async function startStripeSimulator(
  options: StripeSimulatorOptions,
): Promise<StripeSimulator> {
  const log = options.log;
  // A fresh key per simulator: only clients configured for this one can use it.
  const apiKey = `sk_test_sim_${randomToken(24)}`;
  const webhookSecret = options.webhookSecret ?? `whsec_${randomToken(32)}`;
  const sender = createWebhookSender({
    log,
    secret: webhookSecret,
    retryDelaysMs: options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS,
  });
  const settings = {
    afterFailedRetries: options.afterFailedRetries ?? DEFAULT_SETTINGS.afterFailedRetries,
    retrySchedule: options.retrySchedule ?? DEFAULT_SETTINGS.retrySchedule,
    upcomingInvoiceDays: options.upcomingInvoiceDays ?? DEFAULT_SETTINGS.upcomingInvoiceDays,
  };
  checkSettings(settings);
  const store = createStore({
    now: options.now ?? (() => new Date()),
    settings,
    onEvent(event) {
      log.debug("stripe_sim.event", { event_id: event.id, event_type: event.type });
      sender.send(event);
    },
  });
  const controls = createTestControls(store, sender);
  const api = apiRoutes(store, apiKey);

  const app = new Hono();
  app.use(async (c, next) => {
    await next();
    log.debug("stripe_sim.request", {
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
    });
  });
  // The pages' forms are guarded; the API is not (the SDK sends no Origin, only its key).
  for (const path of ["/checkout/*", "/portal/*", "/_sim/*"]) app.use(path, csrf());
  app.route("/", api);
  app.route("/", checkoutRoutes(store));
  app.route("/", portalRoutes(store));
  app.route("/", dashboardRoutes({ store, controls, sender, api, apiKey }));
  app.onError((error, c) => {
    if (error instanceof HTTPException) return error.getResponse();
    log.error("stripe_sim.error", { method: c.req.method, path: c.req.path, error });
    const answer = new StripeApiError(
      500,
      "api_error",
      "The Stripe simulator failed; see its log.",
    );
    return c.json(answer, 500);
  });

  const listening = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: listening.resolve },
    app.fetch,
  );
  const url = `http://127.0.0.1:${(await listening.promise).port}`;

  return {
    ...controls,
    url,
    apiKey,
    webhookSecret,
    prices: { monthly: SIMULATED_PRICE_MONTHLY, annual: SIMULATED_PRICE_ANNUAL },
    now: store.now,
    setWebhookUrl(webhookUrl) {
      sender.endpoint = webhookUrl;
    },
    async close() {
      await sender.close();
      await server.shutdown();
    },
  };
}
