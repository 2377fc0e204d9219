/**
 * Errors at the web edge: the one place where the domain's failures become HTTP statuses, and
 * the error that API routes throw to answer `{ error, message }` with a code of their own.
 */
import { HttpError } from "../web/mod.ts";
import { DomainError, type DomainErrorKind } from "../domain_error.ts";

const STATUS: Record<DomainErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  not_found: 404,
  conflict: 409,
  not_configured: 503,
  upstream: 502,
  too_many: 429,
};

/**
 * An `HttpError` carrying the API's machine-readable `code` (e.g. `reg36_waiver_required`) and
 * any headers its answer needs (`Retry-After`).
 */
export class ApiError extends HttpError {
  constructor(
    status: number,
    message: string,
    readonly code?: string,
    options?: ErrorOptions & { headers?: HeadersInit },
  ) {
    super(status, message, options);
  }
}

/** A domain failure as the error the web runtime renders; anything else passes unchanged. */
export function toHttpError(error: unknown): unknown {
  if (!(error instanceof DomainError)) return error;
  return new ApiError(STATUS[error.kind], error.message, error.code, {
    cause: error,
    headers: error.retryAfterSeconds === null
      ? undefined
      : { "retry-after": String(error.retryAfterSeconds) },
  });
}
