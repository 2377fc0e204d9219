/**
 * Open the app's database from config: the server at `DATABASE_URL`, or — in development only —
 * the embedded one kept under `.data/`. The embedded database is imported lazily, so production
 * never loads it.
 */
import type { Config } from "../config.ts";
import { connect, describeDatabaseUrl, type Sql } from "./client.ts";

export const EMBEDDED_DATA_DIR = new URL("../../.data/pg/", import.meta.url);

export interface OpenDatabase {
  db: Sql;
  /** Safe to log: which database this is, without credentials. */
  description: string;
  /** Close the pool, waiting up to `timeoutSeconds` (default 5) for running queries. */
  close(timeoutSeconds?: number): Promise<void>;
}

export class DatabaseUnavailableError extends Error {
  override name = "DatabaseUnavailableError";
}

export async function openDatabase(config: Config): Promise<OpenDatabase> {
  if (config.databaseUrl) {
    const { pooler, poolSize, idleTimeoutSeconds, maxLifetimeSeconds } = config.database;
    const db = connect(config.databaseUrl, {
      max: poolSize,
      idleTimeout: idleTimeoutSeconds,
      maxLifetime: maxLifetimeSeconds,
      prepare: pooler !== "transaction",
    });
    const description = describeDatabaseUrl(config.databaseUrl);
    await assertReachable(db, description);
    return { db, description, close: (timeout = 5) => db.end({ timeout }) };
  }
  if (config.appEnv === "production") {
    throw new DatabaseUnavailableError("DATABASE_URL is required in production");
  }
  const { startEmbeddedPostgres, EMBEDDED_POOL_SIZE } = await import("./embedded.ts");
  const embedded = await startEmbeddedPostgres(EMBEDDED_DATA_DIR.pathname);
  const db = connect(embedded.url, { max: EMBEDDED_POOL_SIZE });
  const description = `embedded PostgreSQL (PGlite) in ${EMBEDDED_DATA_DIR.pathname}`;
  await assertReachable(db, description);
  return {
    db,
    description,
    async close(timeout = 5) {
      await db.end({ timeout });
      await embedded.stop();
    },
  };
}

/** Fail at start-up with a message that says which database and why, not at the first request. */
async function assertReachable(db: Sql, description: string): Promise<void> {
  try {
    await db`select 1`;
  } catch (error) {
    await db.end({ timeout: 1 }).catch(() => {});
    const reason = (error as { code?: string }).code === "ECONNREFUSED"
      ? "connection refused"
      : (error as Error).message;
    throw new DatabaseUnavailableError(
      `cannot connect to the database at ${description}: ${reason}`,
      {
        cause: error,
      },
    );
  }
}
