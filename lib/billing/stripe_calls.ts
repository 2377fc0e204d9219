/**
 * Calling Stripe from the billing domain: the client (or "payments are not configured"), and a
 * failed call as a failure the person can be told about.
 */
import Stripe from "stripe";
import type { Services } from "../services.ts";
import type { Logger } from "../log.ts";
import { DomainError } from "../domain_error.ts";

export function requireStripe(services: Pick<Services, "stripe">): Stripe {
  if (!services.stripe) {
    throw new DomainError(
      "not_configured",
      "stripe_not_configured",
      "Payments are not configured on this server",
    );
  }
  return services.stripe;
}

/**
 * Stripe's own explanation when it gave one. Timeouts and connection failures (the SDK gives up
 * after its timeout) say so plainly.
 */
export function stripeFailure(error: unknown): DomainError {
  if (error instanceof Stripe.errors.StripeConnectionError) {
    return new DomainError(
      "upstream",
      "stripe_unavailable",
      "The payment provider did not answer in time; please try again",
      { cause: error },
    );
  }
  if (error instanceof Stripe.errors.StripeError) {
    const message = error.userMessage ?? error.message;
    return new DomainError(
      "upstream",
      "stripe_error",
      `The payment provider refused the request: ${message}`,
      { cause: error },
    );
  }
  return new DomainError(
    "upstream",
    "stripe_unavailable",
    "The payment provider could not be reached; please try again",
    { cause: error },
  );
}

/**
 * Stripe failures worth trying again later: it could not be reached, failed on its side, limited
 * our rate, or refused credentials or permissions that an operator can fix (a rotated key).
 */
export function isTransientStripeFailure(error: unknown): boolean {
  return error instanceof Stripe.errors.StripeConnectionError ||
    error instanceof Stripe.errors.StripeAPIError ||
    error instanceof Stripe.errors.StripeRateLimitError ||
    error instanceof Stripe.errors.StripeAuthenticationError ||
    error instanceof Stripe.errors.StripePermissionError ||
    error instanceof Stripe.errors.StripeIdempotencyError;
}

/**
 * A Stripe API call made for a person; a failure is logged as `event` and becomes a failure the
 * person can be told about (Stripe refused, or was away).
 */
export async function callStripe<T>(
  log: Logger,
  event: string,
  userId: number,
  call: () => Promise<T>,
): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof DomainError) throw error;
    log.error(event, { user_id: userId, error });
    throw stripeFailure(error);
  }
}
