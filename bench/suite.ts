/**
 * Every measurement of `deno task bench`, in one run on one fresh database: the app and its
 * limit side by side for each. Sizes are parameters so the test suite can run it all in
 * miniature.
 */
import { createTestApp } from "../tests/helpers/app.ts";
import { signIn } from "../tests/helpers/auth.ts";
import { benchWebhook, type WebhookBenchResult, type WebhookBenchSizes } from "./webhook.ts";
import { benchPages, type PageBenchResult, type PagesBenchSizes } from "./pages.ts";
import { benchColdStart, type ColdStartResult, type ColdStartSizes } from "./cold_start.ts";
import { measureJsBytes, type PageJs } from "./js_bytes.ts";

export interface BenchSizes {
  webhook: WebhookBenchSizes;
  /** The webhook again with every event for one person: one row lock, taken in turn. */
  hotRow: Omit<WebhookBenchSizes, "users">;
  pages: PagesBenchSizes;
  coldStart: ColdStartSizes;
}

// Short runs, many rounds: the two sides of a row alternate often, so whatever else the machine
// is doing meanwhile weighs on both alike.
export const FULL_SIZES: BenchSizes = {
  webhook: { users: 1000, concurrency: 32, eventsPerRun: 2000, rounds: 6 },
  hotRow: { concurrency: 32, eventsPerRun: 500, rounds: 4 },
  pages: { requests: 2000, concurrency: 32, rounds: 6 },
  coldStart: { spawns: 10 },
};

export const JS_PAGES = ["/", "/pricing", "/settings", "/login", "/referrals"];

export interface BenchResults {
  sizes: BenchSizes;
  webhook: WebhookBenchResult;
  hotRow: WebhookBenchResult;
  pages: PageBenchResult[];
  coldStart: ColdStartResult;
  js: PageJs[];
}

export async function runBench(
  sizes: BenchSizes,
  progress: (step: string) => void = () => {},
): Promise<BenchResults> {
  const app = await createTestApp({ payments: "simulator" });
  try {
    progress("webhook");
    const webhook = await benchWebhook(app, sizes.webhook);
    progress("webhook, one hot row");
    const hotRow = await benchWebhook(app, { ...sizes.hotRow, users: 1 });
    const { cookie } = await signIn(app, "bench-reader@example.com");
    progress("pages");
    const pages = await benchPages(app, cookie, sizes.pages);
    progress("JavaScript per page");
    const js = await measureJsBytes(
      app,
      JS_PAGES.map((path) => ({ path, cookie: path === "/settings" ? cookie : undefined })),
    );
    progress("cold start");
    const coldStart = await benchColdStart(app.db.url, sizes.coldStart);
    const results = { sizes, webhook, hotRow, pages, coldStart, js };
    assertMeasuredWhatItClaims(results);
    return results;
  } finally {
    await app.close();
  }
}

/** Figures are only worth printing if the work behind them was really done. */
function assertMeasuredWhatItClaims(results: BenchResults): void {
  const problems: string[] = [];
  const webhooks = { webhook: results.webhook, "hot row": results.hotRow };
  for (const [name, webhook] of Object.entries(webhooks)) {
    if (webhook.processed !== webhook.sent) {
      problems.push(`${name}: ${webhook.processed} of ${webhook.sent} events were processed`);
    }
  }
  for (const page of results.pages) {
    if (!page.sameBytes) {
      problems.push(`${page.path}: the bare server's bytes differ from the app's`);
    }
  }
  if (problems.length) {
    throw new Error(`the benchmark did not measure what it claims:\n${problems.join("\n")}`);
  }
}
