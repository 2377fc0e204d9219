/**
 * Every measurement of `deno task bench`, in one run on one fresh database: the app and its
 * references side by side for each. The app under load runs as it is deployed, `main.ts` in a
 * process of its own; the bench process holds the load clients, the references that need no
 * HTTP, and a test app on the same database for setup (people, a session) and the in-process
 * reference. Sizes are parameters so the test suite can run it all in miniature.
 */
import { createTestApp } from "../tests/helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "../tests/helpers/db.ts";
import { signIn } from "../tests/helpers/auth.ts";
import { WEBHOOK_PATH } from "../lib/billing/webhook/receive.ts";
import { benchWebhook, type WebhookBenchResult, type WebhookBenchSizes } from "./webhook.ts";
import {
  benchPages,
  type PageClient,
  type PagesBenchResult,
  type PagesBenchSizes,
} from "./pages.ts";
import { benchColdStart, type ColdStartResult, type ColdStartSizes } from "./cold_start.ts";
import { measureJsBytes, type PageJs } from "./js_bytes.ts";
import { SERVER_POOL_SIZE, startAppProcess } from "./app_process.ts";
import { installPeer, PEER_WEBHOOK_PATH, startPeer } from "./stripe_sync_engine.ts";
import type { ServerProcess } from "./server_process.ts";
import { findWrk, WRK_INSTALL_HINT } from "./wrk.ts";
import type { Check } from "./checks.ts";

export interface BenchSizes {
  webhook: WebhookBenchSizes;
  /** The webhook again with every event for one person: one row lock, taken in turn. */
  hotRow: Omit<WebhookBenchSizes, "users">;
  pages: PagesBenchSizes;
  coldStart: ColdStartSizes;
}

export interface BenchOptions {
  /** Install and measure the peer; the miniature leaves it out. */
  peer: boolean;
  progress?: (step: string) => void;
}

// Short runs, many rounds: the sides of a row alternate often, so whatever else the machine is
// doing meanwhile weighs on all of them alike.
export const FULL_SIZES: BenchSizes = {
  webhook: { users: 1000, concurrency: 32, eventsPerRun: 2000, rounds: 6 },
  hotRow: { concurrency: 32, eventsPerRun: 500, rounds: 4 },
  pages: {
    rounds: 3,
    warmUp: true,
    wrk: { threads: 2, connections: 64, seconds: 2 },
    fetch: { requests: 2000, concurrency: 32 },
  },
  coldStart: { spawns: 10 },
};

export const PAGE_PATHS = ["/", "/pricing", "/settings"];
export const JS_PAGES = ["/", "/pricing", "/settings", "/login", "/referrals"];

/** The peer as measured, or why it was not. */
export type PeerOutcome =
  | { measured: true; nodeVersion: string; residentBytes: number | null }
  | { measured: false; reason: string };

export interface BenchResults {
  sizes: BenchSizes;
  webhook: WebhookBenchResult;
  hotRow: WebhookBenchResult;
  peer: PeerOutcome;
  pageClient: PageClient;
  pages: PagesBenchResult;
  /** The app process's resident memory after the webhook load, and after all of it. */
  appResidentBytes: { afterWebhooks: number | null; afterAll: number | null };
  coldStart: ColdStartResult;
  js: PageJs[];
  /** Everything the bench verified about its runs; figures beside a failed check are suspect. */
  checks: Check[];
}

export async function runBench(sizes: BenchSizes, options: BenchOptions): Promise<BenchResults> {
  const progress = options.progress ?? (() => {});
  const app = await createTestApp({ payments: "simulator" });
  let appProcess: ServerProcess | null = null;
  let peerProcess: ServerProcess | null = null;
  let peerDb: TestDatabase | null = null;
  try {
    progress("starting the app's process");
    appProcess = await startAppProcess(app.db.url, app.config);
    let peer: PeerOutcome = {
      measured: false,
      reason: "left out of the miniature (deno task bench installs it)",
    };
    if (options.peer) {
      try {
        const installed = await installPeer(progress);
        progress("starting stripe-sync-engine");
        peerDb = await createTestDatabase({ migrate: false, poolSize: 2 });
        peerProcess = await startPeer(
          installed,
          peerDb.url,
          app.config.stripe.webhookSecret!,
          SERVER_POOL_SIZE,
        );
        peer = { measured: true, nodeVersion: installed.nodeVersion, residentBytes: null };
      } catch (error) {
        peer = { measured: false, reason: (error as Error).message };
      }
    }

    progress("webhook");
    const appWebhookUrl = `${appProcess.url}${WEBHOOK_PATH}`;
    const servers = [appProcess, peerProcess].filter((server) => server !== null);
    const untilServersIdle = async () => {
      await Promise.all(servers.map((server) => server.untilIdle()));
    };
    const webhook = await benchWebhook(app, appWebhookUrl, sizes.webhook, {
      reference: true,
      appPid: appProcess.pid,
      peer: peerProcess && peerDb
        ? { url: `${peerProcess.url}${PEER_WEBHOOK_PATH}`, pid: peerProcess.pid, db: peerDb.sql }
        : null,
      untilServersIdle,
    });
    const afterWebhooks = await appProcess.residentBytes();
    if (peer.measured) peer.residentBytes = await peerProcess!.residentBytes();
    await peerProcess?.stop();
    peerProcess = null;

    progress("webhook, one hot row");
    const hotRow = await benchWebhook(app, appWebhookUrl, { ...sizes.hotRow, users: 1 }, {
      reference: false,
      appPid: appProcess.pid,
      peer: null,
      untilServersIdle: () => appProcess!.untilIdle(),
    });

    const { cookie } = await signIn(app, "bench-reader@example.com");
    const wrk = findWrk();
    const pageClient: PageClient = wrk ? { kind: "wrk", path: wrk } : { kind: "fetch" };
    progress(wrk ? "pages (wrk)" : `pages (fetch client: no wrk on PATH; ${WRK_INSTALL_HINT})`);
    const pages = await benchPages(
      appProcess,
      PAGE_PATHS.map((path) => ({
        path,
        headers: path === "/settings" ? { cookie } : {} as Record<string, string>,
      })),
      sizes.pages,
      pageClient,
    );
    const afterAll = await appProcess.residentBytes();
    await appProcess.stop();
    appProcess = null;

    progress("JavaScript per page");
    const js = await measureJsBytes(
      app,
      JS_PAGES.map((path) => ({ path, cookie: path === "/settings" ? cookie : undefined })),
    );
    progress("cold start");
    const coldStart = await benchColdStart(app.db.url, sizes.coldStart);

    const checks: Check[] = [
      ...webhook.checks,
      ...hotRow.checks.map((check) => ({ ...check, text: `hot row, ${check.text}` })),
      ...pages.checks,
    ];
    if (options.peer && !peer.measured) {
      checks.push({ ok: false, text: `stripe-sync-engine was not measured: ${peer.reason}` });
    }
    return {
      sizes,
      webhook,
      hotRow,
      peer,
      pageClient,
      pages,
      appResidentBytes: { afterWebhooks, afterAll },
      coldStart,
      js,
      checks,
    };
  } finally {
    await peerProcess?.stop();
    await peerDb?.close();
    await appProcess?.stop();
    await app.close();
  }
}
