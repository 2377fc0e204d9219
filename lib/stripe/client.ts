/** The Stripe SDK client, built from config. */
import Stripe from "stripe";
import type { Config } from "../config.ts";

/** A stuck call gives up after this long, so a request fails with a 502 instead of hanging. */
export const STRIPE_TIMEOUT_MS = 10_000;

export function createStripeClient(config: Config): Stripe | null {
  const { apiKey, apiBase } = config.stripe;
  if (!apiKey) return null;
  const base = apiBase ? new URL(apiBase) : null;
  return new Stripe(apiKey, {
    httpClient: Stripe.createFetchHttpClient(),
    timeout: STRIPE_TIMEOUT_MS,
    maxNetworkRetries: 1,
    ...(base
      ? {
        protocol: base.protocol.replace(":", "") as "http" | "https",
        host: base.hostname,
        port: Number(base.port || (base.protocol === "https:" ? 443 : 80)),
      }
      : {}),
  });
}
