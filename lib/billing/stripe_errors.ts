/** Turning a failed Stripe API call into an answer for the person who asked. */
import Stripe from "stripe";
import { HttpError } from "../web/define.ts";

/**
 * A 502 carrying Stripe's own explanation when it gave one. Timeouts and connection failures
 * (the SDK gives up after its timeout) say so plainly.
 */
export function stripeFailure(error: unknown): HttpError {
  if (error instanceof Stripe.errors.StripeConnectionError) {
    return new HttpError(502, "The payment provider did not answer in time; please try again", {
      code: "stripe_unavailable",
      cause: error,
    });
  }
  if (error instanceof Stripe.errors.StripeError) {
    const message = error.userMessage ?? error.message;
    return new HttpError(502, `The payment provider refused the request: ${message}`, {
      code: "stripe_error",
      cause: error,
    });
  }
  return new HttpError(502, "The payment provider could not be reached; please try again", {
    code: "stripe_unavailable",
    cause: error,
  });
}
