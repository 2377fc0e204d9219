/// <reference lib="deno.worker" />
/**
 * Runs one `HttpLoad` with keep-alive connections (fetch's pool) and reports its timings; a
 * request that fails or answers another status is counted as failed, with what it answered.
 */
import { runLoad } from "./load.ts";
import type { HttpLoad, HttpLoadReply } from "./http_load.ts";

self.onmessage = async (message: MessageEvent<HttpLoad>) => {
  const { requests, concurrency, expectStatus } = message.data;
  let reply: HttpLoadReply;
  try {
    const result = await runLoad(requests, concurrency, async ({ url, ...init }) => {
      const response = await fetch(url, init);
      const text = await response.text();
      if (response.status !== expectStatus) {
        throw new Error(
          `${init.method ?? "GET"} ${url} answered ${response.status}: ${text.slice(0, 300)}`,
        );
      }
    });
    reply = { result };
  } catch (error) {
    reply = { error: error instanceof Error ? error.message : String(error) };
  }
  self.postMessage(reply);
  self.close();
};
