/**
 * A real PgBouncer in transaction mode in front of the test server, as managed PostgreSQL
 * services put one in front of theirs: each transaction may run on a different server
 * connection, so nothing may rely on session state (named prepared statements, session advisory
 * locks, `SET`, `LISTEN`). Optionally with TLS towards the client (`sslmode=require`), from a
 * certificate made for the run.
 *
 * Needs the `pgbouncer` binary (Debian: `apt-get install pgbouncer`) and a server in
 * `DATABASE_URL`; tests that use it are skipped without them, saying so.
 */
import { needs, ON_REAL_SERVER, serverOnly } from "./needs.ts";
import { waitUntil } from "./bounded.ts";
import { freePort } from "./ports.ts";
import type { TestDatabase } from "./db.ts";
import { parseConfig } from "../../lib/config.ts";
import { openDatabase } from "../../lib/db/open.ts";

export const PGBOUNCER_PATH = Deno.env.get("PGBOUNCER_PATH") ?? "/usr/sbin/pgbouncer";
const HAVE_PGBOUNCER = (() => {
  try {
    return Deno.statSync(PGBOUNCER_PATH).isFile;
  } catch {
    return false;
  }
})();

/** Name and `ignore` for a test that runs through PgBouncer in front of the test server. */
export function poolerOnly(name: string): { name: string; ignore: boolean } {
  if (!ON_REAL_SERVER) return serverOnly(name, "PgBouncer in front of it");
  return needs("pgbouncer", HAVE_PGBOUNCER, name, `none at ${PGBOUNCER_PATH}`);
}

export interface PgBouncer {
  /** `url` (a database on the server) as reached through PgBouncer. */
  via(url: string): string;
  stop(): Promise<void>;
}

/** Start PgBouncer in transaction mode in front of the server `serverUrl` points at. */
export async function startPgBouncer(
  serverUrl: string,
  options: { tls?: boolean; poolSize?: number; mode?: "transaction" | "session" } = {},
): Promise<PgBouncer> {
  const server = new URL(serverUrl);
  const dir = await Deno.makeTempDir({ prefix: "pgbouncer-" });
  // PgBouncer refuses to run as root; started as root it switches to `postgres`, who must be
  // able to read its files.
  await Deno.chmod(dir, 0o755);
  const port = freePort();
  const tls = options.tls ? await selfSignedCertificate(dir) : null;
  const config = [
    "[databases]",
    `* = host=${server.hostname} port=${server.port || 5432} user=${server.username}`,
    "[pgbouncer]",
    "listen_addr = 127.0.0.1",
    `listen_port = ${port}`,
    "unix_socket_dir =",
    "auth_type = any",
    `pool_mode = ${options.mode ?? "transaction"}`,
    "max_client_conn = 1000",
    `default_pool_size = ${options.poolSize ?? 20}`,
    "log_connections = 0",
    "log_disconnections = 0",
    ...(tls
      ? [
        "client_tls_sslmode = require",
        `client_tls_key_file = ${tls.key}`,
        `client_tls_cert_file = ${tls.cert}`,
      ]
      : []),
  ].join("\n");
  await Deno.writeTextFile(`${dir}/pgbouncer.ini`, config + "\n", { mode: 0o644 });
  const asRoot = Deno.uid() === 0;
  const child = new Deno.Command(PGBOUNCER_PATH, {
    args: [...(asRoot ? ["-u", "postgres"] : []), `${dir}/pgbouncer.ini`],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  let exited = false;
  child.status.then(() => exited = true);
  try {
    await waitUntil("PgBouncer to accept connections", async () => {
      if (exited) throw new Error(`PgBouncer exited: ${await stderr}`);
      return await accepts(port);
    }, 10_000);
  } catch (error) {
    if (!exited) child.kill("SIGKILL");
    await child.status;
    throw error;
  }
  return {
    via(url: string) {
      const through = new URL(url);
      through.hostname = "127.0.0.1";
      through.port = String(port);
      if (tls) through.searchParams.set("sslmode", "require");
      return through.toString();
    },
    async stop() {
      if (!exited) child.kill("SIGTERM");
      await child.status;
      await Deno.remove(dir, { recursive: true });
    },
  };
}

async function accepts(port: number): Promise<boolean> {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
    return true;
  } catch {
    return false;
  }
}

async function selfSignedCertificate(dir: string): Promise<{ key: string; cert: string }> {
  const key = `${dir}/server.key`;
  const cert = `${dir}/server.crt`;
  const made = await new Deno.Command("openssl", {
    args: [
      ...["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"],
      ...["-subj", "/CN=127.0.0.1", "-keyout", key, "-out", cert],
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!made.success) throw new Error(new TextDecoder().decode(made.stderr));
  await Deno.chmod(key, 0o644);
  return { key, cert };
}

/**
 * `db` as the app reaches it through `pooler`, opened the way the app opens its database
 * (`DATABASE_URL` at the pooler, `DATABASE_POOLER=transaction`). Closing it leaves `db` open.
 */
export async function throughPooler(pooler: PgBouncer, db: TestDatabase): Promise<TestDatabase> {
  const url = pooler.via(db.url);
  const parsed = parseConfig({ DATABASE_URL: url, DATABASE_POOLER: "transaction" });
  if (!parsed.ok) throw new Error(parsed.errors.join("; "));
  const opened = await openDatabase(parsed.config);
  return { url, sql: opened.db, close: () => opened.close() };
}
