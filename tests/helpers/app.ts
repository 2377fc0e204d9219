/**
 * The whole app on a fresh database, for HTTP tests: `fetch` goes through Hono in-process, and
 * `listen()` serves it on a real port for browsers. Islands come from `_build/`, which the test
 * task builds first.
 */
import manifest from "../../manifest.gen.ts";
import { createApp } from "../../lib/app.ts";
import { type Config, parseConfig } from "../../lib/config.ts";
import { loadMigrations } from "../../lib/db/migrate.ts";
import { loadStaticFiles } from "../../lib/web/static.ts";
import { loadIslandAssets } from "../../lib/web/assets.ts";
import { createTestDatabase, type TestDatabase } from "./db.ts";
import { type CapturedLog, captureLog } from "./logs.ts";

export interface TestApp {
  config: Config;
  db: TestDatabase;
  logs: CapturedLog;
  /** Send a request through the app as if from 127.0.0.1. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** Serve on a free port; resolves to the base URL. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

export async function createTestApp(
  options: { env?: Record<string, string>; now?: () => Date; db?: TestDatabase } = {},
): Promise<TestApp> {
  const parsed = parseConfig({ SITE_URL: "http://localhost:8000", ...options.env });
  if (!parsed.ok) throw new Error(`test config invalid: ${parsed.errors.join("; ")}`);
  const config = parsed.config;
  const db = options.db ?? await createTestDatabase();
  const logs = captureLog();
  const app = createApp(
    {
      config,
      db: db.sql,
      log: logs.log,
      now: options.now ?? (() => new Date()),
      migrations: await loadMigrations(),
      stripe: null,
    },
    { manifest, staticFiles: await loadStaticFiles(), assets: await loadIslandAssets() },
  );
  let server: Deno.HttpServer | null = null;
  return {
    config,
    db,
    logs,
    fetch: async (path, init) =>
      await app.request(path, init, { remoteAddr: { hostname: "127.0.0.1" } }),
    async listen() {
      const listening = Promise.withResolvers<Deno.NetAddr>();
      server = Deno.serve(
        { port: 0, hostname: "127.0.0.1", onListen: listening.resolve },
        app.fetch,
      );
      return `http://127.0.0.1:${(await listening.promise).port}`;
    },
    async close() {
      await server?.shutdown();
      await db.close();
    },
  };
}
