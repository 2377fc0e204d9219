/// <reference lib="deno.worker" />
/** Runs one `HttpLoad` with keep-alive connections (fetch's pool) and reports its timings. */
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
        throw new Error(`${init.method ?? "GET"} ${url} answered ${response.status}: ${text}`);
      }
    });
    reply = { result };
  } catch (error) {
    reply = { error: error instanceof Error ? error.message : String(error) };
  }
  self.postMessage(reply);
  self.close();
};
