/**
 * The whole app on a fresh database, for HTTP tests: `fetch` goes through Hono in-process, and
 * `listen()` serves it on a real port for browsers. Islands come from `_build/`, which the test
 * task builds first.
 *
 * With `payments: "simulator"` the app runs on its own Stripe simulator (fast retries) and listens
 * at once, so the simulator's signed webhooks reach it over HTTP; the app then keeps the
 * simulator's clock, so moving the simulator's time moves the app's. With
 * `servedAtSiteUrl` the app listens on a port chosen up front and SITE_URL is that address, so
 * links in emails and Stripe's return URLs lead a browser back to it.
 */
import type Stripe from "stripe";
import manifest from "../../manifest.gen.ts";
import { createApp } from "../../lib/app.ts";
import { type Config, parseConfig } from "../../lib/config.ts";
import { loadMigrations } from "../../lib/db/migrate.ts";
import { loadIslandAssets, loadStaticFiles } from "../../lib/web/mod.ts";
import { createMailer } from "../../lib/email/mailer.ts";
import type { Services } from "../../lib/services.ts";
import type { Logger } from "../../lib/log.ts";
import { createJobRunner, type JobRunner } from "../../lib/jobs/runner.ts";
import { JOB_HANDLERS } from "../../lib/jobs/handlers.ts";
import { WEBHOOK_PATH } from "../../lib/billing/webhook/receive.ts";
import type { StripeSimulator } from "../../lib/stripe_simulator/mod.ts";
import { createTestDatabase, type TestDatabase } from "./db.ts";
import { type CapturedLog, captureLog } from "./logs.ts";
import { startSimulatedStripe } from "./stripe.ts";
import { freePort } from "./ports.ts";

export interface TestApp {
  config: Config;
  db: TestDatabase;
  logs: CapturedLog;
  /** The Stripe simulator the app runs on, with `payments: "simulator"`. */
  sim: StripeSimulator | null;
  stripe: Stripe | null;
  /** What the app is built from, for calling domain functions and admin commands directly. */
  services: Services & { jobs: JobRunner };
  /** The app's job runner: `await app.jobs.wake()` runs every job that is due. */
  jobs: JobRunner;
  /** Send a request through the app as if from 127.0.0.1. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** Serve on a free port (once); resolves to the base URL. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

export async function createTestApp(
  options: {
    env?: Record<string, string>;
    now?: () => Date;
    /** A database shared with other instances; the caller closes it. By default, a fresh one. */
    db?: TestDatabase;
    payments?: "simulator";
    servedAtSiteUrl?: boolean;
    /** A Stripe client of the test's own (e.g. one pointed at a server that never answers). */
    stripe?: Stripe;
  } = {},
): Promise<TestApp> {
  const start = options.now ?? (() => new Date());
  const port = options.servedAtSiteUrl ? freePort() : 0;
  const payments = options.payments === "simulator"
    ? await startSimulatedStripe({ now: start })
    : null;
  // On the simulator, the app keeps the simulator's time, which tests move forward.
  const now = payments ? () => payments.sim.now() : start;
  const simulatorEnv: Record<string, string> = payments
    ? {
      STRIPE_API_KEY: payments.sim.apiKey,
      STRIPE_API_BASE: payments.sim.url,
      STRIPE_WEBHOOK_SECRET: payments.sim.webhookSecret,
      STRIPE_PRICE_MONTHLY: payments.sim.prices.monthly,
      STRIPE_PRICE_ANNUAL: payments.sim.prices.annual,
    }
    : {};
  const siteUrl = port ? `http://127.0.0.1:${port}` : "http://localhost:8000";
  const parsed = parseConfig({
    SITE_URL: siteUrl,
    ...simulatorEnv,
    ...options.env,
  });
  if (!parsed.ok) throw new Error(`test config invalid: ${parsed.errors.join("; ")}`);
  const config = parsed.config;
  const db = options.db ?? await createTestDatabase();
  const logs = captureLog();
  const services = await testServices(db, {
    config,
    log: logs.log,
    now,
    stripe: options.stripe ?? payments?.stripe ?? null,
  });
  const app = createApp(services, {
    manifest,
    staticFiles: await loadStaticFiles(),
    assets: await loadIslandAssets(),
  });
  let server: { http: Deno.HttpServer; url: string } | null = null;
  const listen = async () => {
    if (server) return server.url;
    const listening = Promise.withResolvers<Deno.NetAddr>();
    const http = Deno.serve(
      { port, hostname: "127.0.0.1", onListen: listening.resolve },
      app.fetch,
    );
    server = { http, url: `http://127.0.0.1:${(await listening.promise).port}` };
    return server.url;
  };
  if (payments) payments.sim.setWebhookUrl(`${await listen()}${WEBHOOK_PATH}`);
  return {
    config,
    db,
    logs,
    services,
    jobs: services.jobs,
    sim: payments?.sim ?? null,
    stripe: options.stripe ?? payments?.stripe ?? null,
    fetch: async (path, init) =>
      await app.request(path, init, { remoteAddr: { hostname: "127.0.0.1" } }),
    listen,
    async close() {
      await services.jobs.stop();
      await payments?.close();
      await server?.http.shutdown();
      if (!options.db) await db.close();
    },
  };
}

/**
 * Services on a test database, as the app assembles them: a development config unless one is
 * given, a captured log, and a job runner with the app's handlers (run by `jobs.wake()`; the
 * test's clock decides what is due).
 */
export async function testServices(
  db: TestDatabase,
  options: { config?: Config; log?: Logger; now?: () => Date; stripe?: Stripe | null } = {},
): Promise<Services & { jobs: JobRunner }> {
  const parsed = parseConfig({});
  if (!parsed.ok) throw new Error(parsed.errors.join("; "));
  const config = options.config ?? parsed.config;
  const log = options.log ?? captureLog().log;
  const base = {
    config,
    db: db.sql,
    log,
    now: options.now ?? (() => new Date()),
    migrations: await loadMigrations(),
    mailer: createMailer(config, log),
    stripe: options.stripe ?? null,
  };
  return { ...base, jobs: createJobRunner(base, JOB_HANDLERS) };
}
