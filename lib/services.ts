/**
 * What the app is built from. `main.ts` assembles the real ones; tests assemble their own
 * (a fresh database, a captured log, a fixed clock) and hand them to `createApp`.
 */
import type Stripe from "stripe";
import type { Config } from "./config.ts";
import type { Sql } from "./db/client.ts";
import type { Migration } from "./db/migrate.ts";
import type { Logger } from "./log.ts";
import type { Mailer } from "./email/mailer.ts";
import type { JobRunner } from "./jobs/runner.ts";

export interface Services {
  config: Config;
  db: Sql;
  log: Logger;
  /** The clock. Injected so tests can move time instead of waiting for it. */
  now: () => Date;
  /** The migrations this code expects, for health checks. */
  migrations: Migration[];
  mailer: Mailer;
  /** The Stripe API client (Stripe, or the simulator in development); null when not set up. */
  stripe: Stripe | null;
  /** Runs durable jobs; `wake()` after a commit that enqueued some. */
  jobs: Pick<JobRunner, "wake">;
}
