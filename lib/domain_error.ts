/**
 * A failure the domain reports in its own terms: what kind of failure it is, a stable code for
 * machines (`reg36_waiver_required`, `already_subscribed`) and a sentence for people. The domain
 * never chooses an HTTP status; the web edge maps each kind to one (`lib/http/errors.ts`).
 */
export type DomainErrorKind =
  /** The request itself is wrong: a missing consent, an unusable value. */
  | "invalid"
  /** The caller is not who they must be (a bad signature, no valid credentials). */
  | "unauthenticated"
  /** The thing asked about does not exist (yet). */
  | "not_found"
  /** The request clashes with the current state (a second subscription). */
  | "conflict"
  /** This server is not set up for it (payments not configured). */
  | "not_configured"
  /** A service the app depends on (Stripe) refused or did not answer. */
  | "upstream"
  /** The caller has asked too often; `retryAfterSeconds` says when to ask again. */
  | "too_many";

export class DomainError extends Error {
  readonly retryAfterSeconds: number | null;
  constructor(
    readonly kind: DomainErrorKind,
    readonly code: string,
    message: string,
    options?: ErrorOptions & { retryAfterSeconds?: number },
  ) {
    super(message, options);
    this.name = "DomainError";
    this.retryAfterSeconds = options?.retryAfterSeconds ?? null;
  }
}
