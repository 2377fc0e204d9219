/** Readiness: can we reach the database, and is its schema the one this code expects? */
import type { Sql } from "./db/client.ts";
import { type Migration, migrationStatus } from "./db/migrate.ts";

export interface Health {
  status: "ok" | "unavailable";
  database: "ok" | "unreachable";
  migrations?: { applied: number; pending: string[] };
}

const TIMEOUT_MS = 3000;

export async function checkHealth(db: Sql, migrations: Migration[]): Promise<Health> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("database health check timed out")), TIMEOUT_MS);
  });
  try {
    const status = await Promise.race([migrationStatus(db, migrations), timeout]);
    const ready = status.pending.length === 0 && status.edited.length === 0;
    return {
      status: ready ? "ok" : "unavailable",
      database: "ok",
      migrations: { applied: status.applied.length, pending: status.pending },
    };
  } catch {
    return { status: "unavailable", database: "unreachable" };
  } finally {
    clearTimeout(timer);
  }
}
