/**
 * What a failed query says about the database, as opposed to about the data it was given.
 *
 * A caller that records failures for good (the webhook answers Stripe "recorded, do not send
 * again") must tell the two apart: a database that failed — the connection, the server, a
 * deadlock, a pooler that lost a statement, a schema the code does not match — may well succeed
 * if asked again, while data that can never be stored will fail every time.
 */
import postgres from "postgres";

/** Error codes postgres.js reports once a connection's socket has closed or is closing. */
export const CONNECTION_LOST: ReadonlySet<string> = new Set([
  "CONNECTION_CLOSED",
  "CONNECTION_DESTROYED",
  "ECONNRESET",
  "EPIPE",
]);

/** Codes postgres.js and the socket layer use when a connection is lost or never made. */
const CONNECTION_FAILURES: ReadonlySet<string> = new Set([
  ...CONNECTION_LOST,
  "CONNECTION_ENDED",
  "CONNECT_TIMEOUT",
  "ECONNREFUSED",
  "ETIMEDOUT",
]);

/**
 * SQLSTATE classes that describe the data, not the database: 22 data exception (a value out of
 * range, too long, of the wrong form) and 23 integrity constraint violation (a value the schema
 * refuses). The same data fails the same way every time.
 */
const DATA_ERROR_CLASSES: ReadonlySet<string> = new Set(["22", "23"]);

/** Whether `error` is the server refusing the data it was given (a data error, see above). */
export function isDataError(error: unknown): boolean {
  return error instanceof postgres.PostgresError &&
    DATA_ERROR_CLASSES.has(error.code.slice(0, 2));
}

/**
 * Whether `error` is a failure of the database or the connection to it: every error the server
 * reports, except data errors, and every connection-level failure.
 */
export function isDatabaseFailure(error: unknown): boolean {
  if (error instanceof postgres.PostgresError) {
    return !DATA_ERROR_CLASSES.has(error.code.slice(0, 2));
  }
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && CONNECTION_FAILURES.has(code);
}
