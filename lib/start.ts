/**
 * Start-up: database, migrations, Stripe (or its simulator), static files, island bundles, then
 * the HTTP server. Used by `main.ts` and by tests that need the whole app listening on a port.
 */
import type Stripe from "stripe";
import type { Config } from "./config.ts";
import type { Logger } from "./log.ts";
import type { Manifest } from "./web/define.ts";
import type { StripeSimulator } from "./stripe_simulator/mod.ts";
import { createApp } from "./app.ts";
import { openDatabase } from "./db/open.ts";
import { loadMigrations, migrate } from "./db/migrate.ts";
import { loadStaticFiles } from "./web/static.ts";
import { loadIslandAssets } from "./web/assets.ts";
import { openStripeBackend, type StripeBackend } from "./stripe/backend.ts";
import type { Sql } from "./db/client.ts";
import { createMailer } from "./email/mailer.ts";

export interface RunningApp {
  url: string;
  db: Sql;
  /** The config the app runs with, Stripe defaults filled in (simulator prices and secret). */
  config: Config;
  stripe: Stripe;
  /** The in-process Stripe simulator when the app runs on it (never in production). */
  stripeSimulator: StripeSimulator | null;
  /** Stop accepting, finish in-flight requests, stop Stripe deliveries, close the database. */
  shutdown(): Promise<void>;
}

export async function startApp(
  config: Config,
  log: Logger,
  manifest: Manifest,
  options: { now?: () => Date } = {},
): Promise<RunningApp> {
  const now = options.now ?? (() => new Date());
  const database = await openDatabase(config);
  let payments: StripeBackend | null = null;
  try {
    const migrations = await loadMigrations();
    const applied = await migrate(database.db, migrations);
    if (applied.length) log.info("db.migrated", { applied });

    payments = await openStripeBackend(config, log, now);
    const appConfig = { ...config, stripe: payments.settings };
    const app = createApp(
      {
        config: appConfig,
        db: database.db,
        log,
        now,
        migrations,
        mailer: createMailer(config, log),
        stripe: payments.stripe,
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
    // Loopback by address: `localhost` may resolve to ::1, where this server is not listening.
    payments.connect(`http://127.0.0.1:${address.port}`);
    log.info("app.started", {
      url,
      site_url: config.siteUrl,
      database: database.description,
      stripe: payments.description,
    });
    const backend = payments;
    return {
      url,
      db: database.db,
      config: appConfig,
      stripe: backend.stripe,
      stripeSimulator: backend.simulator,
      async shutdown() {
        await server.shutdown();
        await backend.close();
        await database.close();
      },
    };
  } catch (error) {
    await payments?.close().catch(() => {});
    await database.close().catch(() => {});
    throw error;
  }
}
