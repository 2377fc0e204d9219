/**
 * The `stripe` SDK client, built one way for every backend: Stripe itself, another
 * Stripe-compatible server (STRIPE_API_BASE), or the built-in simulator.
 */
import Stripe from "stripe";

/** Long enough for Stripe on a bad day, short enough that a request handler is not stuck. */
const TIMEOUT_MS = 10_000;
/** The SDK retries connection errors, 409s and 5xx with the same idempotency key. */
const MAX_NETWORK_RETRIES = 2;

export function createStripeClient(options: { apiKey: string; apiBase: string | null }): Stripe {
  const base = options.apiBase ? new URL(options.apiBase) : null;
  return new Stripe(options.apiKey, {
    httpClient: Stripe.createFetchHttpClient(),
    timeout: TIMEOUT_MS,
    maxNetworkRetries: MAX_NETWORK_RETRIES,
    ...(base
      ? {
        host: base.hostname,
        port: base.port || (base.protocol === "https:" ? "443" : "80"),
        protocol: base.protocol === "https:" ? "https" : "http",
      }
      : {}),
  });
}

/** Which server a client talks to, for the start-up log: `api.stripe.com` or the base's host. */
export function describeApiBase(apiBase: string | null): string {
  return apiBase ? new URL(apiBase).host : "api.stripe.com";
}
