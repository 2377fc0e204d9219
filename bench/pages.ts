/**
 * Page throughput against its limit: pages from the app's process, and from a bare `Deno.serve`
 * process answering with the status, headers and bytes the app gave for the same request. Both
 * are loaded by the same client — wrk when installed, else the bench's fetch client — with the
 * same requests (the session cookie included), alternately.
 */
import { combineThroughput, type Throughput } from "./load.ts";
import { requestAll } from "./http_load.ts";
import { runWrk, type WrkOptions } from "./wrk.ts";
import { type ServerProcess, startServerProcess } from "./server_process.ts";
import { type Check, noFailures } from "./checks.ts";
import { formatNumber } from "./table.ts";
import { withCpu } from "./cpu.ts";

export interface PagesBenchSizes {
  /** Timed runs of each side, alternating, after one untimed run of each. */
  rounds: number;
  warmUp: boolean;
  wrk: Omit<WrkOptions, "headers">;
  /** The fallback client: requests per run, and how many at a time. */
  fetch: { requests: number; concurrency: number };
}

/** The load client: wrk at this path, or the fetch client. */
export type PageClient = { kind: "wrk"; path: string } | { kind: "fetch" };

export interface PageRequest {
  path: string;
  headers: Record<string, string>;
}

export interface PageBenchResult {
  path: string;
  app: Throughput;
  limit: Throughput;
  bodyBytes: number;
}

export interface PagesBenchResult {
  pages: PageBenchResult[];
  /** The bare server's resident memory after its load. */
  limitResidentBytes: number | null;
  checks: Check[];
}

export interface RecordedAnswer {
  status: number;
  headers: [string, string][];
  bodyBase64: string;
}

export type RecordedAnswers = Record<string, RecordedAnswer>;

interface Answer {
  status: number;
  headers: [string, string][];
  body: Uint8Array<ArrayBuffer>;
}

const BARE_ENTRY = new URL("./bare_page_server.ts", import.meta.url).pathname;

export async function benchPages(
  app: ServerProcess,
  requests: PageRequest[],
  sizes: PagesBenchSizes,
  client: PageClient,
): Promise<PagesBenchResult> {
  const appUrl = app.url;
  const captured = new Map<string, Answer>();
  for (const { path, headers } of requests) {
    const answer = await fetchAnswer(`${appUrl}${path}`, headers);
    if (answer.status !== 200) throw new Error(`${path} answered ${answer.status}`);
    captured.set(path, answer);
  }
  const answersFile = await Deno.makeTempFile({ prefix: "bench-pages-", suffix: ".json" });
  let bare: ServerProcess | null = null;
  try {
    await Deno.writeTextFile(answersFile, JSON.stringify(recorded(captured)));
    bare = await startServerProcess({
      name: "the bare page server",
      command: Deno.execPath(),
      args: ["run", "-A", BARE_ENTRY, answersFile],
      env: {},
      readyPath: requests[0].path,
    });
    const untilBothIdle = async () => {
      await Promise.all([app.untilIdle(), bare!.untilIdle()]);
    };
    const checks: Check[] = [];
    const pages: PageBenchResult[] = [];
    for (const { path, headers } of requests) {
      const appPage = `${appUrl}${path}`;
      const barePage = `${bare.url}${path}`;
      // The app asked again, not the captured copy: a page that changed from one request to the
      // next could not be stood in for by fixed bytes.
      const [fromApp, fromBare] = [
        await fetchAnswer(appPage, headers),
        await fetchAnswer(barePage, headers),
      ];
      checks.push({
        ok: sameBytes(fromApp.body, fromBare.body),
        text: `GET ${path}: the bare server sends the app's ${
          formatNumber(fromApp.body.length)
        } bytes`,
      });
      const load = async (server: ServerProcess, url: string): Promise<Throughput> => {
        const { result, cpu } = await withCpu(
          server.pid,
          untilBothIdle,
          () => loadPage(client, url, headers, sizes),
        );
        return { ...result, cpu };
      };
      if (sizes.warmUp) {
        await load(app, appPage);
        await load(bare, barePage);
      }
      const appRuns: Throughput[] = [];
      const limitRuns: Throughput[] = [];
      for (let round = 0; round < sizes.rounds; round++) {
        appRuns.push(await load(app, appPage));
        limitRuns.push(await load(bare, barePage));
      }
      const after = await fetchAnswer(appPage, headers);
      checks.push(
        noFailures(`GET ${path} from the app, requests`, appRuns),
        noFailures(`GET ${path} from the bare server, requests`, limitRuns),
        {
          ok: after.status === 200,
          text: `GET ${path}: the app still answers 200 after the load (${after.status})`,
        },
      );
      pages.push({
        path,
        app: combineThroughput(appRuns),
        limit: combineThroughput(limitRuns),
        bodyBytes: captured.get(path)!.body.length,
      });
    }
    return { pages, limitResidentBytes: await bare.residentBytes(), checks };
  } finally {
    await bare?.stop();
    await Deno.remove(answersFile);
  }
}

async function loadPage(
  client: PageClient,
  url: string,
  headers: Record<string, string>,
  sizes: PagesBenchSizes,
): Promise<Throughput> {
  if (client.kind === "wrk") return await runWrk(client.path, url, { ...sizes.wrk, headers });
  return await requestAll({
    requests: Array.from({ length: sizes.fetch.requests }, () => ({ url, headers })),
    concurrency: sizes.fetch.concurrency,
    expectStatus: 200,
  });
}

/** The answer as sent, uncompressed, so it can be served again byte for byte. */
async function fetchAnswer(url: string, headers: Record<string, string>): Promise<Answer> {
  const response = await fetch(url, { headers: { ...headers, "accept-encoding": "identity" } });
  return {
    status: response.status,
    headers: [...response.headers].filter(([name]) => !PER_RESPONSE.has(name)),
    body: new Uint8Array(await response.arrayBuffer()),
  };
}

/** Headers the server writes for each response by itself. */
const PER_RESPONSE = new Set(["content-length", "date", "transfer-encoding", "connection"]);

function recorded(answers: Map<string, Answer>): RecordedAnswers {
  return Object.fromEntries(
    [...answers].map(([path, { status, headers, body }]) => [
      path,
      {
        status,
        headers,
        bodyBase64: btoa(Array.from(body, (b) => String.fromCharCode(b)).join("")),
      },
    ]),
  );
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
