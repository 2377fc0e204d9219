/**
 * HTTP load from a worker thread: the client's own work (building requests, reading answers)
 * then runs beside the server under test, not on its event loop, as a real client would.
 */
import type { LoadResult } from "./load.ts";

export interface HttpRequestSpec {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface HttpLoad {
  requests: HttpRequestSpec[];
  concurrency: number;
  /** An answer with another status counts as a failed request. */
  expectStatus: number;
}

export type HttpLoadReply = { result: LoadResult } | { error: string };

export async function requestAll(load: HttpLoad): Promise<LoadResult> {
  const worker = new Worker(new URL("./http_load_worker.ts", import.meta.url), { type: "module" });
  try {
    const reply = Promise.withResolvers<HttpLoadReply>();
    worker.onmessage = (message: MessageEvent<HttpLoadReply>) => reply.resolve(message.data);
    worker.onerror = (event) => {
      event.preventDefault();
      reply.resolve({ error: event.message });
    };
    worker.postMessage(load);
    const answer = await reply.promise;
    if ("error" in answer) throw new Error(answer.error);
    return answer.result;
  } finally {
    worker.terminate();
  }
}
