/**
 * Pausing the app inside a transaction at a known point: a test holds a row lock from its own
 * connection, the app's transaction waits for it, and `pg_blocking_pids` says which backend that
 * is — no sleeps, no hooks in the app.
 */
import type { Sql } from "../../lib/db/client.ts";

export interface HeldLock {
  /** The backend pid of the first transaction found waiting for this lock. */
  waiter(): Promise<number>;
  /** Terminate that backend, as an operator or a failover would. */
  killWaiter(): Promise<void>;
  release(): Promise<void>;
}

/** Run `lockQuery` (e.g. `select … for update`) in a transaction held open until `release()`. */
export async function holdLock(sql: Sql, lockQuery: string, params: unknown[]): Promise<HeldLock> {
  const holder = await sql.reserve();
  await holder`begin`;
  await holder.unsafe(lockQuery, params as never[]);
  const [{ pid: holderPid }] = await holder<{ pid: number }[]>`select pg_backend_pid() as pid`;
  const waiter = async () => {
    for (let attempt = 0; attempt < 1000; attempt++) {
      const [blocked] = await sql<{ pid: number }[]>`
        select pid from pg_stat_activity where ${holderPid} = any(pg_blocking_pids(pid))`;
      if (blocked) return blocked.pid;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error("no transaction ever waited for the lock");
  };
  return {
    waiter,
    async killWaiter() {
      await sql`select pg_terminate_backend(${await waiter()})`;
    },
    async release() {
      await holder`rollback`;
      holder.release();
    },
  };
}
