/**
 * Limits on what a signed-in person may ask Stripe to create (Checkout and portal sessions), so
 * one account cannot push the Stripe account into rate limits that every other customer would
 * then meet. Counted in PostgreSQL like every limit, so all instances share them.
 */
import type { Services } from "../services.ts";
import { DomainError } from "../domain_error.ts";
import { consumeRateLimits } from "../rate_limit.ts";

export interface PersonLimit {
  name: string;
  max: number;
  windowSeconds: number;
}

/** Counts one attempt, or throws `too_many` (with when to try again) past the limit. */
export async function limitPerPerson(
  services: Pick<Services, "db" | "now">,
  userId: number,
  limit: PersonLimit,
  what: string,
): Promise<void> {
  const result = await consumeRateLimits(services.db, [{
    key: `${limit.name}:user:${userId}`,
    max: limit.max,
    windowSeconds: limit.windowSeconds,
  }], services.now());
  if (result.allowed) return;
  const minutes = Math.ceil(result.retryAfterSeconds / 60);
  throw new DomainError(
    "too_many",
    "rate_limited",
    `${what}; please try again in ${minutes} minute${minutes === 1 ? "" : "s"}`,
    { retryAfterSeconds: result.retryAfterSeconds },
  );
}
