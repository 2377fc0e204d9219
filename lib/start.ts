/**
 * Start-up: database, migrations, Stripe (or its simulator), static files, island bundles, then
 * the HTTP server. Used by `main.ts` and by tests that need the whole app listening on a port.
 *
 * In development start-up applies pending migrations. In production it only checks them:
 * migrating is the release step (`deno task migrate`), and an instance whose database is behind
 * its code refuses to start rather than serve a schema it does not know.
 */
import type Stripe from "stripe";
import { type Config, localOrigin } from "./config.ts";
import type { Logger } from "./log.ts";
import { type IslandAssets, loadIslandAssets, loadStaticFiles, type Manifest } from "./web/mod.ts";
import type { StripeSimulator } from "./stripe_simulator/mod.ts";
import { createApp } from "./app.ts";
import { openDatabase } from "./db/open.ts";
import { loadMigrations, migrate, type Migration, migrationStatus } from "./db/migrate.ts";
import { openStripeBackend, type StripeBackend } from "./stripe/backend.ts";
import type { Sql } from "./db/client.ts";
import { createMailer } from "./email/mailer.ts";
import { createJobRunner, type JobRunner } from "./jobs/runner.ts";
import { JOB_HANDLERS } from "./jobs/handlers.ts";

export interface RunningApp {
  url: string;
  db: Sql;
  /** The config the app runs with, Stripe defaults filled in (simulator prices and secret). */
  config: Config;
  stripe: Stripe;
  /** The in-process Stripe simulator when the app runs on it (never in production). */
  stripeSimulator: StripeSimulator | null;
  /** The durable job runner of this instance. */
  jobs: JobRunner;
  /**
   * Stop accepting, let in-flight requests finish for up to `config.shutdownGraceMs`, then stop
   * Stripe deliveries and close the database (cutting off whatever is still running: its
   * transaction rolls back, so nothing is left half-written).
   */
  shutdown(): Promise<void>;
}

/** After the grace period, how long each remaining step may take before it is abandoned. */
const FORCED_STOP_MS = 1000;

export class StartupRefused extends Error {
  override name = "StartupRefused";
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
    if (config.appEnv === "production") await assertSchemaCurrent(database.db, migrations);
    else {
      const applied = await migrate(database.db, migrations);
      if (applied.length) log.info("db.migrated", { applied });
    }
    const assets = await loadIslandAssets();
    assertIslandsBuilt(manifest, assets);
    const staticFiles = await loadStaticFiles();

    payments = await openStripeBackend(config, log, now);
    // Listen first: with PORT=0 and no SITE_URL, the site's origin is the port the system picks.
    let handle: Deno.ServeHandler = () => new Response("starting", { status: 503 });
    const listening = Promise.withResolvers<Deno.NetAddr>();
    const server = Deno.serve(
      { port: config.port, hostname: "0.0.0.0", onListen: listening.resolve },
      (request, info) => handle(request, info),
    );
    const address = await listening.promise;
    const url = localOrigin(address.port);
    const appConfig = {
      ...config,
      siteUrl: config.siteUrl === localOrigin(0) ? url : config.siteUrl,
      stripe: payments.settings,
    };
    const base = {
      config: appConfig,
      db: database.db,
      log,
      now,
      migrations,
      mailer: createMailer(config, log),
      stripe: payments.stripe,
    };
    const jobs = createJobRunner(base, JOB_HANDLERS);
    // Due jobs also run on a schedule: scheduled ones come due with time, and a job whose runner
    // died is taken again once its lease lapses (`main.ts` adds Deno.cron where there is one).
    jobs.start({ intervalMs: JOB_INTERVAL_MS });
    const app = createApp({ ...base, jobs }, { manifest, staticFiles, assets });
    handle = app.fetch;
    // Loopback by address: `localhost` may resolve to ::1, where this server is not listening.
    payments.connect(`http://127.0.0.1:${address.port}`);
    log.info("app.started", {
      url,
      site_url: appConfig.siteUrl,
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
      jobs,
      async shutdown() {
        const drained = server.shutdown();
        const finished = await settlesWithin(drained, config.shutdownGraceMs);
        if (!finished) {
          log.warn("app.shutdown_grace_exceeded", { grace_ms: config.shutdownGraceMs });
        }
        await settlesWithin(jobs.stop(), FORCED_STOP_MS);
        await backend.close();
        // Past the grace period, connections are cut rather than drained: PostgreSQL rolls back
        // whatever transaction they held, and the process does not wait on it any longer.
        await settlesWithin(database.close(finished ? 5 : 0), FORCED_STOP_MS);
        if (!finished) await settlesWithin(drained, FORCED_STOP_MS);
        log.info("app.stopped", { drained: finished });
      },
    };
  } catch (error) {
    await payments?.close().catch(() => {});
    await database.close().catch(() => {});
    throw error;
  }
}

/** How often a running instance looks for due jobs, besides after each commit that made one. */
const JOB_INTERVAL_MS = 30_000;

async function assertSchemaCurrent(db: Sql, migrations: Migration[]): Promise<void> {
  const status = await migrationStatus(db, migrations);
  if (status.edited.length) {
    throw new StartupRefused(
      `applied migrations differ from this code: ${status.edited.join(", ")}`,
    );
  }
  if (status.pending.length) {
    throw new StartupRefused(
      `the database is behind this code (pending: ${status.pending.join(", ")}); ` +
        "run `deno task migrate` against it first",
    );
  }
}

function assertIslandsBuilt(manifest: Manifest, assets: IslandAssets): void {
  if (Object.keys(manifest.islands).length > 0 && !assets.boot) {
    throw new StartupRefused("the island bundles are missing; run `deno task build` first");
  }
}

/** Whether `promise` settles within `ms` (its outcome either way). */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const settled = promise.then(() => true, () => true);
  const late = new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), ms));
  const result = await Promise.race([settled, late]);
  clearTimeout(timer);
  return result;
}
