/**
 * Stripe's error answers: `{ "error": { type, message, param?, code? } }` with the status Stripe
 * uses, so the SDK raises the same error classes it would against Stripe (400 →
 * StripeInvalidRequestError or StripeIdempotencyError, 401 → StripeAuthenticationError).
 */

export type StripeErrorType = "invalid_request_error" | "idempotency_error" | "api_error";

export class StripeApiError extends Error {
  override name = "StripeApiError";
  constructor(
    readonly status: number,
    readonly type: StripeErrorType,
    message: string,
    readonly param?: string,
    readonly code?: string,
  ) {
    super(message);
  }

  toJSON() {
    return {
      error: {
        type: this.type,
        message: this.message,
        ...(this.param === undefined ? {} : { param: this.param }),
        ...(this.code === undefined ? {} : { code: this.code }),
      },
    };
  }
}

export function invalidRequest(message: string, param?: string, code?: string): StripeApiError {
  return new StripeApiError(400, "invalid_request_error", message, param, code);
}

const NOUNS: Record<string, string> = {
  cus: "customer",
  price: "price",
  cs: "checkout.session",
  sub: "subscription",
  evt: "event",
  in: "invoice",
  ch: "charge",
  pm: "payment_method",
  pi: "payment_intent",
  si: "subscription item",
  dp: "dispute",
  bpc: "configuration",
  re: "refund",
};

/**
 * An id that names no object. In the URL path that is a 404 with param `id`; as a parameter of
 * another request it is a 400 naming that parameter, as Stripe answers.
 */
export function noSuch(
  kind: keyof typeof NOUNS,
  id: string,
  param?: string,
): StripeApiError {
  const message = `No such ${NOUNS[kind]}: '${id}'`;
  return param === undefined
    ? new StripeApiError(404, "invalid_request_error", message, "id", "resource_missing")
    : new StripeApiError(400, "invalid_request_error", message, param, "resource_missing");
}

/**
 * What a request told to fail by `failNextRequests` answers: Stripe's rate-limit body for 429
 * (the SDK raises StripeRateLimitError), an `api_error` for 500 (StripeAPIError).
 */
export function injectedFailure(status: 429 | 500): StripeApiError {
  return status === 429
    ? new StripeApiError(
      429,
      "invalid_request_error",
      "Request rate limit exceeded. Learn more about rate limits here " +
        "https://stripe.com/docs/rate-limits.",
      undefined,
      "rate_limit",
    )
    : new StripeApiError(
      500,
      "api_error",
      "An unknown error occurred while processing this request (simulated by failNextRequests).",
    );
}

/** A test control or hosted-page action that cannot apply to the object's current state. */
export class SimulatorError extends Error {
  override name = "SimulatorError";
}
