/**
 * The one way the app talks to PostgreSQL: a postgres.js pool, and `withTransaction` for every
 * write that touches more than one statement.
 */
import postgres from "postgres";

export type Sql = postgres.Sql;
export type Tx = postgres.TransactionSql;
/** Either the pool or a transaction: for read helpers that work inside and outside one. */
export type Queryable = Sql | Tx;

export interface ConnectOptions {
  /** Pool size. The embedded database serves a single connection. */
  max?: number;
  /** Seconds to wait for a connection before failing. */
  connectTimeout?: number;
  /** Called with the text of every statement sent, to trace which statements a code path issues. */
  onQuery?: (statement: string) => void;
}

export function connect(url: string, options: ConnectOptions = {}): Sql {
  return postgres(url, {
    max: options.max ?? 10,
    connect_timeout: options.connectTimeout ?? 10,
    idle_timeout: 30,
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
  return sql.begin((tx) => fn(tx)) as Promise<T>;
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
