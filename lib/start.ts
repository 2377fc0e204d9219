/**
 * Start-up: database, migrations, static files, island bundles, then the HTTP server. Used by
 * `main.ts` and by tests that need the whole app listening on a port.
 */
import type { Config } from "./config.ts";
import type { Logger } from "./log.ts";
import type { Manifest } from "./web/define.ts";
import { createApp } from "./app.ts";
import { openDatabase } from "./db/open.ts";
import { loadMigrations, migrate } from "./db/migrate.ts";
import { loadStaticFiles } from "./web/static.ts";
import { loadIslandAssets } from "./web/assets.ts";
import type { Sql } from "./db/client.ts";
import { createMailer } from "./email/mailer.ts";
import { createStripeClient } from "./stripe/client.ts";

export interface RunningApp {
  url: string;
  db: Sql;
  /** Stop accepting, finish in-flight requests, close the database. */
  shutdown(): Promise<void>;
}

export async function startApp(
  config: Config,
  log: Logger,
  manifest: Manifest,
  options: { now?: () => Date } = {},
): Promise<RunningApp> {
  const database = await openDatabase(config);
  try {
    const migrations = await loadMigrations();
    const applied = await migrate(database.db, migrations);
    if (applied.length) log.info("db.migrated", { applied });

    const app = createApp(
      {
        config,
        db: database.db,
        log,
        now: options.now ?? (() => new Date()),
        migrations,
        mailer: createMailer(config, log),
        stripe: createStripeClient(config),
      },
      { manifest, staticFiles: await loadStaticFiles(), assets: await loadIslandAssets() },
    );
    const listening = Promise.withResolvers<Deno.NetAddr>();
    const server = Deno.serve(
      { port: config.port, hostname: "0.0.0.0", onListen: listening.resolve },
      app.fetch,
    );
    const address = await listening.promise;
    const url = `http://localhost:${address.port}`;
    log.info("app.started", { url, site_url: config.siteUrl, database: database.description });
    return {
      url,
      db: database.db,
      async shutdown() {
        await server.shutdown();
        await database.close();
      },
    };
  } catch (error) {
    await database.close().catch(() => {});
    throw error;
  }
}
