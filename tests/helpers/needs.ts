/**
 * Tests that need something the machine may not have: a PostgreSQL server (the embedded database
 * is a single backend — no two transactions at once, so nothing can wait on a lock another
 * connection holds, and no backend to terminate) or PgBouncer. Without it they are skipped, with
 * what they need in their name, and the test task counts them and says how to include them.
 */

/** True when the tests run on the PostgreSQL server in `DATABASE_URL` (as CI does). */
export const ON_REAL_SERVER = Boolean(Deno.env.get("DATABASE_URL"));

/** What a skipped test can need, and how a person gets it. */
export const REQUIREMENTS = {
  server: {
    what: "a PostgreSQL server",
    howToInclude: "set DATABASE_URL to one (e.g. postgres://postgres@127.0.0.1:5432/postgres)",
  },
  pgbouncer: {
    what: "PgBouncer",
    howToInclude: "install it (apt-get install pgbouncer, or set PGBOUNCER_PATH)",
  },
} as const;

/** `name` and `ignore` for a `Deno.test` or `t.step` that runs only when `available`. */
export function needs(
  requirement: keyof typeof REQUIREMENTS,
  available: boolean,
  name: string,
  why: string,
): { name: string; ignore: boolean } {
  return available
    ? { name, ignore: false }
    : { name: `${name} [needs ${REQUIREMENTS[requirement].what}: ${why}]`, ignore: true };
}

/** For a test only a real PostgreSQL server can run, for the reason `why`. */
export function serverOnly(name: string, why: string): { name: string; ignore: boolean } {
  return needs("server", ON_REAL_SERVER, name, why);
}
