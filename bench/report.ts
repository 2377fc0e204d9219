/**
 * The benchmark's one table. Every row sets the app beside its limit; the ratio is oriented so
 * that 1.00 means "as good as the limit": app ÷ limit for rates, limit ÷ app for times. For
 * JavaScript, the limit is the aim and the ratio is bytes ÷ aim (at most 1.00 meets it).
 */
import { type LoadResult, percentile, perSecond } from "./load.ts";
import { JS_AIM_BYTES } from "./js_bytes.ts";
import type { BenchResults } from "./suite.ts";
import type { WebhookBenchResult } from "./webhook.ts";
import { formatNumber, markdownTable } from "./table.ts";

const COLUMNS = [
  { title: "measurement", align: "left" },
  { title: "app", align: "right" },
  { title: "limit", align: "right" },
  { title: "ratio", align: "right" },
  { title: "limit is", align: "left" },
] as const;

export function benchTable(results: BenchResults): string {
  const { sizes } = results;
  const rows: string[][] = [
    ...webhookRows(
      "webhook",
      `${sizes.webhook.concurrency} concurrent, ${formatNumber(sizes.webhook.users)} users`,
      results.webhook,
    ),
    ...webhookRows(
      "webhook, hot row",
      `${sizes.hotRow.concurrency} concurrent, 1 user`,
      results.hotRow,
    ),
    ...results.pages.map((page) =>
      rateRow(
        `GET ${page.path} requests/s, ${sizes.pages.concurrency} concurrent`,
        page.app,
        page.limit,
        `bare Deno.serve, same ${formatNumber(page.bodyBytes)} bytes`,
      )
    ),
    timeRow(
      `cold start to first 200 on / (ms, median of ${sizes.coldStart.spawns})`,
      median(results.coldStart.appMs),
      median(results.coldStart.limitMs),
      "bare Deno.serve script",
    ),
    ...results.js.map((page) => [
      `JavaScript on ${page.path} (bytes gzipped)`,
      formatNumber(page.gzippedBytes),
      formatNumber(JS_AIM_BYTES),
      (page.gzippedBytes / JS_AIM_BYTES).toFixed(2),
      `the ${JS_AIM_BYTES / 1024} KiB aim`,
    ]),
  ];
  return markdownTable([...COLUMNS], rows);
}

function webhookRows(name: string, load: string, result: WebhookBenchResult): string[][] {
  const limitIs = "same SQL via postgres.js";
  const p50 = [percentile(result.app, 0.5), percentile(result.limit, 0.5)] as const;
  const p99 = [percentile(result.app, 0.99), percentile(result.limit, 0.99)] as const;
  return [
    rateRow(`${name} events/s, ${load}`, result.app, result.limit, limitIs),
    timeRow(`${name} latency p50 (ms)`, ...p50, limitIs),
    timeRow(`${name} latency p99 (ms)`, ...p99, limitIs),
  ];
}

function rateRow(title: string, app: LoadResult, limit: LoadResult, limitIs: string): string[] {
  const [a, l] = [perSecond(app), perSecond(limit)];
  return [title, formatNumber(a), formatNumber(l), (a / l).toFixed(2), limitIs];
}

function timeRow(title: string, appMs: number, limitMs: number, limitIs: string): string[] {
  return [
    title,
    formatNumber(appMs, 1),
    formatNumber(limitMs, 1),
    (limitMs / appMs).toFixed(2),
    limitIs,
  ];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
