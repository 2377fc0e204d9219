/**
 * Which Stripe the app talks to. With STRIPE_API_KEY: Stripe (or the server in STRIPE_API_BASE).
 * Without one, outside production: the built-in simulator, started in-process and imported
 * lazily so production never loads it. Production cannot get here without a key (config
 * requires one); this module refuses too, so no later change to config can enable the simulator
 * there.
 */
import type Stripe from "stripe";
import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";
import type { StripeSimulator } from "../stripe_simulator/mod.ts";
import { createStripeClient, describeApiBase } from "./client.ts";
import { WEBHOOK_PATH } from "../billing/webhook/receive.ts";

export interface StripeBackend {
  stripe: Stripe;
  /** Safe to log: `api.stripe.com`, the STRIPE_API_BASE host, or `simulator at http://…`. */
  description: string;
  /** The app's Stripe settings, with the simulator's prices and secret where none were set. */
  settings: Config["stripe"];
  /** The running simulator (development and tests only), for its test controls. */
  simulator: StripeSimulator | null;
  /** Tell the backend where the app listens, so the simulator can deliver its webhooks. */
  connect(appOrigin: string): void;
  close(): Promise<void>;
}

export async function openStripeBackend(
  config: Config,
  log: Logger,
  now: () => Date,
): Promise<StripeBackend> {
  const settings = config.stripe;
  if (settings.apiKey) {
    return {
      stripe: createStripeClient({ apiKey: settings.apiKey, apiBase: settings.apiBase }),
      description: describeApiBase(settings.apiBase),
      settings,
      simulator: null,
      connect() {},
      close: () => Promise.resolve(),
    };
  }
  if (config.appEnv === "production") {
    throw new Error(
      "STRIPE_API_KEY is required in production; the Stripe simulator never runs there",
    );
  }

  const { startStripeSimulator } = await import("../stripe_simulator/mod.ts");
  const simulator = await startStripeSimulator({
    log,
    now,
    webhookSecret: settings.webhookSecret ?? undefined,
  });
  return {
    stripe: createStripeClient({ apiKey: simulator.apiKey, apiBase: simulator.url }),
    description: `simulator at ${simulator.url}`,
    settings: {
      ...settings,
      webhookSecret: simulator.webhookSecret,
      priceMonthly: settings.priceMonthly ?? simulator.prices.monthly,
      priceAnnual: settings.priceAnnual ?? simulator.prices.annual,
      apiBase: simulator.url,
    },
    simulator,
    connect(appOrigin) {
      simulator.setWebhookUrl(`${appOrigin}${WEBHOOK_PATH}`);
    },
    close: () => simulator.close(),
  };
}
