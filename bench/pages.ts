/**
 * Page throughput against its limit: `/pricing` and a signed-in `/settings` from the app, and a
 * bare `Deno.serve` answering with the status, headers and body the app gave for the same
 * request. Both are loaded over HTTP at the same concurrency, alternately.
 */
import type { TestApp } from "../tests/helpers/app.ts";
import { combine, type LoadResult } from "./load.ts";
import { requestAll } from "./http_load.ts";

export interface PagesBenchSizes {
  /** Requests per timed run of each side; the sides alternate `rounds` times. */
  requests: number;
  concurrency: number;
  rounds: number;
}

export interface PageBenchResult {
  path: string;
  app: LoadResult;
  limit: LoadResult;
  bodyBytes: number;
  /** A fresh answer from the app and the bare server's answer are byte for byte the same. */
  sameBytes: boolean;
}

interface Answer {
  status: number;
  headers: [string, string][];
  body: Uint8Array<ArrayBuffer>;
}

/** `cookie` is a signed-in person's session, for `/settings`. */
export async function benchPages(
  app: TestApp,
  cookie: string,
  sizes: PagesBenchSizes,
): Promise<PageBenchResult[]> {
  const base = await app.listen();
  return [
    await benchPage(base, "/pricing", {}, sizes),
    await benchPage(base, "/settings", { cookie }, sizes),
  ];
}

async function benchPage(
  base: string,
  path: string,
  headers: Record<string, string>,
  sizes: PagesBenchSizes,
): Promise<PageBenchResult> {
  const appUrl = `${base}${path}`;
  const captured = await fetchAnswer(appUrl, headers);
  if (captured.status !== 200) throw new Error(`${path} answered ${captured.status}`);
  const bare = serveAnswer(captured);
  try {
    const bareUrl = await bare.url;
    // The app asked again, not the captured copy: a page that changed from one request to the
    // next could not be stood in for by fixed bytes.
    const fromApp = await fetchAnswer(appUrl, headers);
    const fromBare = await fetchAnswer(bareUrl, {});
    const load = (url: string, headers: Record<string, string>) =>
      requestAll({
        requests: Array.from({ length: sizes.requests }, () => ({ url, headers })),
        concurrency: sizes.concurrency,
        expectStatus: 200,
      });
    // Warm-up: compiled code paths, the price cache.
    await load(appUrl, headers);
    await load(bareUrl, {});
    const appRuns: LoadResult[] = [];
    const limitRuns: LoadResult[] = [];
    for (let round = 0; round < sizes.rounds; round++) {
      appRuns.push(await load(appUrl, headers));
      limitRuns.push(await load(bareUrl, {}));
    }
    return {
      path,
      app: combine(appRuns),
      limit: combine(limitRuns),
      bodyBytes: captured.body.length,
      sameBytes: sameBytes(fromApp.body, fromBare.body),
    };
  } finally {
    await bare.close();
  }
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

function serveAnswer(answer: Answer): { url: Promise<string>; close(): Promise<void> } {
  const listening = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: listening.resolve },
    () => new Response(answer.body, { status: answer.status, headers: answer.headers }),
  );
  return {
    url: listening.promise.then((address) => `http://127.0.0.1:${address.port}/`),
    close: () => server.shutdown(),
  };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
