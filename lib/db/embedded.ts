/**
 * The embedded PostgreSQL used when `DATABASE_URL` is unset: PGlite (Postgres compiled to WASM)
 * served over the wire protocol, so the app uses the same postgres.js client and SQL as in
 * production. Development and tests only; production refuses to start without DATABASE_URL.
 *
 * PGlite is a single backend, so the server accepts one connection and the client pool must be
 * of size 1 (`EMBEDDED_POOL_SIZE`); queries from concurrent requests queue in the client.
 */
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

export const EMBEDDED_POOL_SIZE = 1;

export interface EmbeddedPostgres {
  url: string;
  db: PGlite;
  stop(): Promise<void>;
}

/** Open (or create) the database kept in `dataDir`, or an in-memory one when omitted. */
export async function openPGlite(dataDir?: string): Promise<PGlite> {
  if (dataDir) await Deno.mkdir(dataDir, { recursive: true });
  return await PGlite.create(dataDir);
}

/** Serve a PGlite instance on a free loopback port. */
export async function serveEmbedded(db: PGlite): Promise<EmbeddedPostgres> {
  const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0, maxConnections: 1 });
  await server.start();
  return {
    url: `postgres://postgres@${server.getServerConn()}/postgres`,
    db,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}

export async function startEmbeddedPostgres(dataDir: string): Promise<EmbeddedPostgres> {
  return await serveEmbedded(await openPGlite(dataDir));
}
