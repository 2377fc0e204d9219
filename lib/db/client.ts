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
  /**
   * Called with the text of every statement sent and its parameters, to trace which statements a
   * code path issues.
   */
  onQuery?: (statement: string, parameters: readonly unknown[]) => void;
}

export function connect(url: string, options: ConnectOptions = {}): Sql {
  return postgres(url, {
    max: options.max ?? 10,
    connect_timeout: options.connectTimeout ?? 10,
    idle_timeout: options.idleTimeout ?? 30,
    ...(options.maxLifetime ? { max_lifetime: options.maxLifetime } : {}),
    prepare: options.prepare ?? true,
    debug: options.onQuery
      ? (_connection, statement, parameters) => options.onQuery!(statement, parameters)
      : false,
    // Notices (e.g. "relation already exists, skipping") are not errors; keep stdout JSON-only.
    onnotice: () => {},
    // Columns are snake_case in SQL (the schema is the operators' contract) and camelCase in
    // TypeScript: `stripe_customer_id` arrives as `stripeCustomerId`. Only column names: json
    // values keep their keys (`postgres.camel` would rebuild every json value, key by key, on
    // every row; a read of json renames its own keys, see `rowFromJson`).
    transform: { column: { from: postgres.toCamel, to: postgres.fromCamel } },
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
 * propagates), and rolled back too when one of its statements failed even if `fn` went on (its
 * first such failure is thrown). Inside `fn`, use only `tx` — the pool may have no spare
 * connection.
 *
 * The BEGIN is not waited for: it goes to the server with the transaction's first statements, in
 * one round trip (the driver's own `begin()` waits a round trip for it alone). On a connection of
 * its own (`reserve()`), statements run in the order they are sent, so nothing can run between
 * the BEGIN and them. The BEGIN is an unnamed simple-protocol query, which nothing but the
 * connection itself can make fail; its answer is still checked before anything is committed.
 */
export async function withTransaction<T>(sql: Sql, fn: (tx: Tx) => Promise<T>): Promise<T> {
  const reserved = await sql.reserve();
  const transaction = new Transaction(reserved);
  try {
    return await transaction.run(fn);
  } finally {
    transaction.release();
  }
}

/*
 * When the connection under a transaction dies, any query still sent on it — the callback's next
 * query after an await on something else, a ROLLBACK — is written to the dead socket from a timer
 * in postgres.js (3.4.9), where the error escapes every promise and stops the process; and a
 * connection the pool has replaced must not be released as if it were still ours. So the
 * transaction learns of the close from the driver (the connection's `onclose`, which its own
 * `begin()` uses the same way), fails at once with the driver's error, and from then on sends
 * nothing: its queries are refused, and a callback that failed because the connection is gone
 * never settles (the close is the answer).
 */
class Transaction {
  #reserved: postgres.ReservedSql;
  #connection: { onclose?: ((error: unknown) => void) | null } | null = null;
  #lost = Promise.withResolvers<never>();
  #isLost = false;
  #ended = false;
  /** The first statement of the transaction that failed, awaited by `fn` or not. */
  #failure: { error: unknown } | null = null;
  #begun: Promise<unknown>;

  constructor(reserved: postgres.ReservedSql) {
    this.#reserved = reserved;
    this.#lost.promise.catch(() => {});
    // `onexecute` is the driver's hook for the connection a query runs on (its `begin()` uses it):
    // here, to hear when that connection closes. Returning true leaves the connection as it is.
    const onexecute = (connection: { onclose?: ((error: unknown) => void) | null }) => {
      this.#connection = connection;
      connection.onclose = (error) => {
        this.#isLost = true;
        this.#lost.reject(error);
      };
      return true;
    };
    this.#begun = reserved.unsafe("begin", [], { onexecute } as postgres.UnsafeQueryOptions);
    this.#begun.catch(() => {});
  }

  async run<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await this.#untilLost(unlessConnectionLost(fn(this.#tx())));
      await this.#untilLost(this.#begun);
    } catch (error) {
      await this.#rollback();
      // A statement after a failed one only learns that the transaction is aborted (25P02).
      const aborted = (error as { code?: unknown } | null)?.code === "25P02";
      throw aborted && this.#failure ? this.#failure.error : error;
    }
    if (this.#failure) {
      await this.#rollback();
      throw this.#failure.error;
    }
    // A statement still on its way that fails makes the server answer the COMMIT with a
    // ROLLBACK: whoever sent it (`sendWithCommit`) awaits it and learns of it there.
    await this.#untilLost(this.#reserved`commit`);
    return result;
  }

  /** Back to the pool — unless the connection closed, which the pool has taken back itself. */
  release(): void {
    this.#ended = true;
    if (this.#isLost) return;
    if (this.#connection) this.#connection.onclose = null;
    this.#reserved.release();
  }

  async #rollback(): Promise<void> {
    // Nothing is sent on a closed connection: the close is the answer.
    if (this.#isLost) await this.#lost.promise;
    await this.#untilLost(this.#reserved`rollback`).catch((error) => {
      if (this.#isLost) throw error;
    });
  }

  #untilLost<T>(work: Promise<T>): Promise<T> {
    return Promise.race([work, this.#lost.promise]);
  }

  /** The reserved connection as `tx`: refusing queries once ended, watching each one it runs. */
  #tx(): Tx {
    return new Proxy(this.#reserved, {
      apply: (target, self, args) => {
        if (this.#ended || this.#isLost) {
          throw Object.assign(new Error("the transaction has already ended"), {
            code: "CONNECTION_CLOSED",
          });
        }
        const made = Reflect.apply(target, self, args);
        this.#watch(made);
        return made;
      },
      get: (target, property, receiver) => {
        if (property === "release" || property === "savepoint" || property === "prepare") {
          throw new Error(`tx.${String(property)} is not available inside withTransaction`);
        }
        return Reflect.get(target, property, receiver);
      },
    }) as unknown as Tx;
  }

  /**
   * Note the failure of a query made on `tx`, when it runs: a fragment nested in another query
   * never runs on its own, so it is watched through its driver's hook, not its promise.
   */
  #watch(made: unknown): void {
    const query = made as { handler?: (query: Promise<unknown>) => unknown } | null;
    if (typeof query?.handler !== "function" || !(made instanceof Promise)) return;
    const run = query.handler;
    // The driver reads its own settings (`debug`) off the handler: they stay on the wrapper.
    query.handler = Object.assign((q: Promise<unknown>) => {
      Promise.prototype.then.call(q, undefined, (error) => {
        this.#failure ??= { error };
      });
      return run(q);
    }, run);
  }
}

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

/** A short description of a connection URL that is safe to log (no password). */
export function describeDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || "5432"}${parsed.pathname}`;
  } catch {
    return "(unparseable DATABASE_URL)";
  }
}
