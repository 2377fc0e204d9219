/**
 * The `stripe` SDK client, built one way for every backend: Stripe itself, another
 * Stripe-compatible server (STRIPE_API_BASE), or the built-in simulator.
 */
import Stripe from "stripe";

/** Per attempt: long enough for Stripe on a bad day. */
export const STRIPE_TIMEOUT_MS = 10_000;
/**
 * The SDK retries connection errors, timeouts, 409s and 5xx with the same idempotency key. One
 * retry keeps a call that Stripe never answers under `stripeCallWorstCaseMs()` ≈ 20.5 s, so the
 * person waiting gets our 502 before a proxy's 30 s timeout cuts the request off.
 */
export const STRIPE_MAX_NETWORK_RETRIES = 1;

export interface StripeClientOptions {
  apiKey: string;
  apiBase: string | null;
  /** Per-attempt timeout; tests against a server that never answers use a short one. */
  timeoutMs?: number;
  maxNetworkRetries?: number;
}

export function createStripeClient(options: StripeClientOptions): Stripe {
  const base = options.apiBase ? new URL(options.apiBase) : null;
  return new Stripe(options.apiKey, {
    httpClient: Stripe.createFetchHttpClient(),
    timeout: options.timeoutMs ?? STRIPE_TIMEOUT_MS,
    maxNetworkRetries: options.maxNetworkRetries ?? STRIPE_MAX_NETWORK_RETRIES,
    ...(base
      ? {
        host: base.hostname,
        port: base.port || (base.protocol === "https:" ? "443" : "80"),
        protocol: base.protocol === "https:" ? "https" : "http",
      }
      : {}),
  });
}

/**
 * The longest one SDK call can take when Stripe never answers: every attempt runs to its timeout,
 * with the SDK's back-off between attempts (retry n sleeps at most max(0.5 s, min(0.5 s × 2^(n-1),
 * 5 s))).
 */
export function stripeCallWorstCaseMs(
  timeoutMs = STRIPE_TIMEOUT_MS,
  maxNetworkRetries = STRIPE_MAX_NETWORK_RETRIES,
): number {
  let total = timeoutMs * (maxNetworkRetries + 1);
  for (let retry = 1; retry <= maxNetworkRetries; retry++) {
    total += Math.max(500, Math.min(500 * 2 ** (retry - 1), 5_000));
  }
  return total;
}

/** Which server a client talks to, for the start-up log: `api.stripe.com` or the base's host. */
export function describeApiBase(apiBase: string | null): string {
  return apiBase ? new URL(apiBase).host : "api.stripe.com";
}
