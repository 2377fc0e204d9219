/**
 * The benchmark's one table. Every row sets the app beside a reference and says what the
 * reference is; the ratio is oriented so that 1.00 means "as good as the reference": app ÷
 * reference for rates, reference ÷ app for times and memory. For JavaScript, the reference is the
 * aim and the ratio is bytes ÷ aim (at most 1.00 meets it).
 */
import { type LoadResult, percentile, perSecond, type Throughput } from "./load.ts";
import { JS_AIM_BYTES } from "./js_bytes.ts";
import type { BenchResults } from "./suite.ts";
import { SERVER_POOL_SIZE } from "./app_process.ts";
import { PEER_PACKAGE, PEER_VERSION } from "./stripe_sync_engine.ts";
import { wrkCommand } from "./wrk.ts";
import { formatNumber, markdownTable } from "./table.ts";

const COLUMNS = [
  { title: "measurement", align: "left" },
  { title: "app", align: "right" },
  { title: "reference", align: "right" },
  { title: "ratio", align: "right" },
  { title: "reference is", align: "left" },
] as const;

const MIB = 1024 * 1024;

export function benchTable(results: BenchResults): string {
  const { sizes, webhook, hotRow, peer } = results;
  const load = `${sizes.webhook.concurrency} in flight, ${
    formatNumber(sizes.webhook.users)
  } people`;
  const hotLoad = `${sizes.hotRow.concurrency} in flight, 1 person`;
  const ownSql = "the app's own SQL: processStripeEvent in-process, no HTTP";
  const peerIs = `${PEER_PACKAGE} ${PEER_VERSION}, Node ${
    peer.measured ? peer.nodeVersion : "?"
  } node:http + pg, ${SERVER_POOL_SIZE} connections`;
  const rows: string[][] = [
    ...webhookRows(
      "webhook",
      load,
      webhook.app,
      webhook.reference!,
      `4-statement transaction, postgres.js, ${sizes.webhook.concurrency} connections, no HTTP`,
    ),
    ...(peer.measured ? webhookRows("webhook", load, webhook.app, webhook.peer!, peerIs) : [[
      `webhook events/s, ${load}`,
      formatNumber(perSecond(webhook.app)),
      "—",
      "—",
      `${PEER_PACKAGE} ${PEER_VERSION} not measured: ${peer.reason}`,
    ]]),
    ...webhookRows("webhook", load, webhook.app, webhook.ownSql, ownSql),
    ...webhookRows("webhook, hot row", hotLoad, hotRow.app, hotRow.ownSql, ownSql),
    ...results.pages.pages.map((page) =>
      rateRow(
        `GET ${page.path} requests/s, ${pageClientName(results)}`,
        page.app,
        page.limit,
        `bare Deno.serve process, same ${formatNumber(page.bodyBytes)} bytes`,
      )
    ),
    timeRow(
      `cold start to first 200 on / (ms, median of ${sizes.coldStart.spawns})`,
      median(results.coldStart.appMs),
      median(results.coldStart.limitMs),
      "bare Deno.serve script",
    ),
    memoryRow(
      "resident memory after the webhook load (MiB)",
      results.appResidentBytes.afterWebhooks,
      peer.measured ? peer.residentBytes : null,
      peer.measured
        ? `${PEER_PACKAGE}'s Node process, same events`
        : `not measured: ${peer.reason}`,
    ),
    memoryRow(
      "resident memory after all load (MiB)",
      results.appResidentBytes.afterAll,
      results.pages.limitResidentBytes,
      "bare Deno.serve process after the same page load",
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

const CPU_COLUMNS = [
  { title: "CPU per event or request (µs)", align: "left" },
  { title: "server", align: "right" },
  { title: "PostgreSQL", align: "right" },
  { title: "bench process", align: "right" },
  { title: "total", align: "right" },
] as const;

/**
 * Where each side's time went, from the same runs as the table: CPU per operation in the server
 * under test, in PostgreSQL and in the bench's process (its load client, or a side that runs in
 * it), from idle to idle. On two shared cores these add up to what a side can do per second.
 */
export function cpuTable(results: BenchResults): string {
  const { webhook, hotRow, peer } = results;
  const sides: [string, Throughput | null][] = [
    ["webhook: the app over HTTP (server: main.ts)", webhook.app],
    ["webhook: 4-statement reference, in the bench process", webhook.reference],
    [
      `webhook: ${PEER_PACKAGE} over HTTP (server: its Node process)`,
      peer.measured ? webhook.peer : null,
    ],
    ["webhook: the app's own SQL, in the bench process", webhook.ownSql],
    ["webhook, hot row: the app over HTTP", hotRow.app],
    ["webhook, hot row: the app's own SQL, in the bench process", hotRow.ownSql],
    ...results.pages.pages.flatMap((page): [string, Throughput][] => [
      [`GET ${page.path}: the app`, page.app],
      [`GET ${page.path}: bare Deno.serve`, page.limit],
    ]),
  ];
  const rows = sides.flatMap(([title, run]) => run ? [cpuRow(title, run)] : []);
  return markdownTable([...CPU_COLUMNS], rows);
}

function cpuRow(title: string, run: Throughput): string[] {
  const { cpu } = run;
  if (!cpu || run.completed === 0) return [title, "—", "—", "—", "not measured (no /proc)"];
  const per = (micros: number) => formatNumber(micros / run.completed);
  const total = (cpu.server ?? 0) + cpu.database + cpu.bench;
  return [
    title,
    cpu.server === null ? "—" : per(cpu.server),
    per(cpu.database),
    per(cpu.bench),
    per(total),
  ];
}

/** Lines under the table: what was verified, failed checks first and marked. */
export function checkLines(results: BenchResults): string[] {
  const failed = results.checks.filter((check) => !check.ok);
  const passed = results.checks.filter((check) => check.ok);
  return [
    ...failed.map((check) => `FAILED ${check.text}`),
    ...passed.map((check) => `ok     ${check.text}`),
  ];
}

function pageClientName(results: BenchResults): string {
  const { pages } = results.sizes;
  return results.pageClient.kind === "wrk"
    ? wrkCommand(pages.wrk)
    : `fetch client, ${pages.fetch.concurrency} at a time (no wrk)`;
}

function webhookRows(
  name: string,
  load: string,
  app: LoadResult,
  reference: LoadResult,
  referenceIs: string,
): string[][] {
  const p50 = [percentile(app, 0.5), percentile(reference, 0.5)] as const;
  const p99 = [percentile(app, 0.99), percentile(reference, 0.99)] as const;
  return [
    rateRow(`${name} events/s, ${load}`, app, reference, referenceIs),
    timeRow(`${name} latency p50 (ms)`, ...p50, referenceIs),
    timeRow(`${name} latency p99 (ms)`, ...p99, referenceIs),
  ];
}

function rateRow(
  title: string,
  app: Throughput,
  reference: Throughput,
  referenceIs: string,
): string[] {
  const [a, r] = [perSecond(app), perSecond(reference)];
  return [title, formatNumber(a), formatNumber(r), (a / r).toFixed(2), referenceIs];
}

function timeRow(title: string, appMs: number, referenceMs: number, referenceIs: string) {
  return [
    title,
    formatNumber(appMs, 1),
    formatNumber(referenceMs, 1),
    (referenceMs / appMs).toFixed(2),
    referenceIs,
  ];
}

function memoryRow(
  title: string,
  appBytes: number | null,
  referenceBytes: number | null,
  referenceIs: string,
): string[] {
  const mib = (bytes: number | null) => bytes === null ? "—" : formatNumber(bytes / MIB, 1);
  const ratio = appBytes && referenceBytes ? (referenceBytes / appBytes).toFixed(2) : "—";
  return [title, mib(appBytes), mib(referenceBytes), ratio, referenceIs];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
