/**
 * Tests only a real PostgreSQL server can run. The embedded database is a single backend: no two
 * transactions at once, so nothing can wait on a lock another connection holds, and there is no
 * backend to terminate. Such tests are skipped without `DATABASE_URL`, saying why in their name,
 * and the test task counts them by the marker below.
 */

/** True when the tests run on the PostgreSQL server in `DATABASE_URL` (as CI does). */
export const ON_REAL_SERVER = Boolean(Deno.env.get("DATABASE_URL"));

export const NEEDS_SERVER = "needs a PostgreSQL server";

/** Name and `ignore` for a `Deno.test` or `t.step` that needs a server for `why`. */
export function serverOnly(name: string, why: string): { name: string; ignore: boolean } {
  return ON_REAL_SERVER
    ? { name, ignore: false }
    : { name: `${name} [${NEEDS_SERVER}: ${why}]`, ignore: true };
}
