/**
 * The one way the app talks to PostgreSQL: a postgres.js pool, and `withTransaction` for every
 * write that touches more than one statement.
 */
import postgres from "postgres";
import { CONNECTION_LOST } from "./errors.ts";

export type Sql = postgres.Sql;
export type Tx = postgres.TransactionSql;
/** Either the pool or a transaction: for read helpers that work inside and outside one. */
export type Queryable = Sql | Tx;

export interface ConnectOptions {
  /** Pool size (default 10). */
  max?: number;
  /** Seconds to wait for a connection before failing. */
  connectTimeout?: number;
  /** Seconds an unused connection stays open (default 30). */
  idleTimeout?: number;
  /** Seconds before a connection is replaced (default: the driver's, 30 to 60 minutes). */
  maxLifetime?: number;
  /**
   * Named prepared statements (default true). A transaction-mode pooler cannot keep them: the
   * next transaction may run on another server connection that never saw the statement.
   */
  prepare?: boolean;
  /** Called with the text of every statement sent, to trace which statements a code path issues. */
  onQuery?: (statement: string) => void;
}

export function connect(url: string, options: ConnectOptions = {}): Sql {
  return postgres(url, {
    max: options.max ?? 10,
    connect_timeout: options.connectTimeout ?? 10,
    idle_timeout: options.idleTimeout ?? 30,
    ...(options.maxLifetime ? { max_lifetime: options.maxLifetime } : {}),
    prepare: options.prepare ?? true,
    debug: options.onQuery ? (_connection, statement) => options.onQuery!(statement) : false,
    // Notices (e.g. "relation already exists, skipping") are not errors; keep stdout JSON-only.
    onnotice: () => {},
    // Columns are snake_case in SQL (the schema is the operators' contract) and camelCase in
    // TypeScript: `stripe_customer_id` arrives as `stripeCustomerId`.
    transform: postgres.camel,
    // int8 (counts, sums) as JS numbers: every such value in this schema fits comfortably.
    types: {
      bigint: {
        to: 20,
        from: [20],
        serialize: (x: number) => x.toString(),
        parse: (x: string) => Number(x),
      },
    },
  });
}

/**
 * Run `fn` in one transaction: committed when it resolves, rolled back when it throws (the error
 * propagates). Inside `fn`, use only `tx` — the pool may have no spare connection.
 */
export function withTransaction<T>(sql: Sql, fn: (tx: Tx) => Promise<T>): Promise<T> {
  let ended = false;
  const transaction = sql.begin((tx) =>
    unlessConnectionLost(fn(refusingAfterEnd(tx, () => ended)))
  ) as Promise<T>;
  const end = () => {
    ended = true;
  };
  transaction.then(end, end);
  return transaction;
}

/*
 * When the connection under a transaction dies, postgres.js (3.4.9) rejects the transaction by
 * itself, but any query still sent on it — the ROLLBACK it sends when the callback fails too, or
 * the callback's next query after an await on something else (Stripe) — is written to the dead
 * socket from a timer, where the error escapes every promise, stops the process and leaves that
 * pooled connection unusable. So nothing is ever sent on a transaction that has ended: its
 * queries are refused, and a callback that failed because the connection is gone never settles
 * (the transaction's own rejection is the answer).
 */

async function unlessConnectionLost<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (CONNECTION_LOST.has((error as { code?: unknown } | null)?.code as string)) {
      return await new Promise<never>(() => {});
    }
    throw error;
  }
}

/** `tx`, except that a query made after the transaction ended fails instead of being sent. */
function refusingAfterEnd(tx: Tx, ended: () => boolean): Tx {
  const guarded = new Proxy(tx, {
    apply(target, self, args) {
      if (ended()) {
        throw Object.assign(new Error("the transaction has already ended"), {
          code: "CONNECTION_CLOSED",
        });
      }
      return Reflect.apply(target, self, args);
    },
  });
  return guarded;
}

/** A short description of a connection URL that is safe to log (no password). */
export function describeDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || "5432"}${parsed.pathname}`;
  } catch {
    return "(unparseable DATABASE_URL)";
  }
}
