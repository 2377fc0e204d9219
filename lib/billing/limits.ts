/**
 * Limits on what a signed-in person may ask Stripe to create (Checkout and portal sessions), so
 * one account cannot push the Stripe account into rate limits that every other customer would
 * then meet. Counted in PostgreSQL like every limit, so all instances share them.
 */
import type { Services } from "../services.ts";
import { DomainError } from "../domain_error.ts";
import { consumeRateLimits } from "../rate_limit.ts";

/** The window of `BILLING_SESSIONS_PER_PERSON`. */
export const BILLING_SESSION_WINDOW_SECONDS = 15 * 60;

/** What is limited: Checkout attempts (each asks Stripe several things) or portal sessions. */
export type BillingSessionKind = "checkout" | "portal";

const TOO_MANY: Record<BillingSessionKind, string> = {
  checkout: "Too many checkout attempts",
  portal: "Too many billing portal requests",
};

/** Counts one attempt, or throws `too_many` (with when to try again) past the limit. */
export async function limitBillingSessions(
  services: Pick<Services, "config" | "db" | "now">,
  userId: number,
  kind: BillingSessionKind,
): Promise<void> {
  const result = await consumeRateLimits(services.db, [{
    key: `${kind}:user:${userId}`,
    max: services.config.billingSessionsPerPerson,
    windowSeconds: BILLING_SESSION_WINDOW_SECONDS,
  }], services.now());
  if (result.allowed) return;
  const minutes = Math.ceil(result.retryAfterSeconds / 60);
  throw new DomainError(
    "too_many",
    "rate_limited",
    `${TOO_MANY[kind]}; please try again in ${minutes} minute${minutes === 1 ? "" : "s"}`,
    { retryAfterSeconds: result.retryAfterSeconds },
  );
}
