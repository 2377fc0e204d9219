/**
 * An HTTP server in front of a Stripe-compatible one (the simulator) that passes requests through
 * until `hang()`, then holds every request without answering — a Stripe outage as the SDK sees it
 * — until `recover()` (held requests, long given up by their clients, are then let go). It counts every request that reaches it, so a test sees how often the app
 * called Stripe.
 */

export interface OutageFront {
  url: string;
  /** Requests received, passed through or held. */
  requests(): number;
  /** Stop answering. */
  hang(): void;
  /** Pass requests through again. */
  recover(): void;
  close(): Promise<void>;
}

export async function startOutageFront(targetUrl: string): Promise<OutageFront> {
  let hanging = false;
  let requests = 0;
  const held = new Set<() => void>();
  const listening = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: listening.resolve },
    async (request) => {
      requests += 1;
      if (hanging) {
        await new Promise<void>((resolve) => held.add(resolve));
        return new Response(null, { status: 503 });
      }
      const { pathname, search } = new URL(request.url);
      const headers = new Headers(request.headers);
      headers.delete("host");
      const answer = await fetch(new URL(pathname + search, targetUrl), {
        method: request.method,
        headers,
        body: request.method === "GET" ? undefined : await request.arrayBuffer(),
      });
      return new Response(await answer.arrayBuffer(), {
        status: answer.status,
        headers: { "content-type": answer.headers.get("content-type") ?? "application/json" },
      });
    },
  );
  const releaseHeld = () => {
    for (const release of held) release();
    held.clear();
  };
  return {
    url: `http://127.0.0.1:${(await listening.promise).port}`,
    requests: () => requests,
    hang() {
      hanging = true;
    },
    recover() {
      hanging = false;
      releaseHeld();
    },
    async close() {
      releaseHeld();
      await server.shutdown();
    },
  };
}
