/**
 * A server that accepts connections, reads what it is sent and does not answer: what a Stripe
 * API in trouble looks like from the SDK. It counts the requests it holds, so a test can see how
 * many attempts the client made, and answers them only when the test says so.
 */

export interface StuckServer {
  url: string;
  /** HTTP requests received (each attempt of the client). */
  requests(): number;
  /** Resolves once `count` requests have arrived. */
  received(count: number): Promise<void>;
  /** Answer every request held so far with 200 and this JSON (then close its connection). */
  answer(body: unknown): Promise<void>;
  close(): void;
}

export function startStuckServer(): StuckServer {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const connections = new Set<Deno.Conn>();
  let requests = 0;
  let closed = false;
  const waiting: { count: number; resolve: () => void }[] = [];
  const arrived = () => {
    requests += 1;
    for (const wait of waiting.filter((w) => requests >= w.count)) {
      waiting.splice(waiting.indexOf(wait), 1);
      wait.resolve();
    }
  };
  (async () => {
    for await (const conn of listener) {
      connections.add(conn);
      swallow(conn, arrived).finally(() => connections.delete(conn));
    }
  })().catch(() => {});
  return {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    requests: () => requests,
    received(count) {
      if (requests >= count) return Promise.resolve();
      const { promise, resolve } = Promise.withResolvers<void>();
      waiting.push({ count, resolve });
      return promise;
    },
    async answer(body) {
      const json = new TextEncoder().encode(JSON.stringify(body));
      const head = new TextEncoder().encode(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n" +
          `content-length: ${json.length}\r\nconnection: close\r\n\r\n`,
      );
      for (const conn of connections) {
        for (const bytes of [head, json]) {
          for (let written = 0; written < bytes.length;) {
            written += await conn.write(bytes.subarray(written));
          }
        }
        await conn.closeWrite();
      }
    },
    close() {
      if (closed) return;
      closed = true;
      listener.close();
      for (const conn of connections) conn.close();
    },
  };
}

/** Read requests off a connection, counting each request line, and never write a byte. */
async function swallow(conn: Deno.Conn, arrived: () => void): Promise<void> {
  const decoder = new TextDecoder();
  const buffer = new Uint8Array(16 * 1024);
  let seen = "";
  try {
    while (true) {
      const n = await conn.read(buffer);
      if (n === null) return;
      seen += decoder.decode(buffer.subarray(0, n));
      let end = 0;
      for (const match of seen.matchAll(/^(GET|POST|DELETE) \S+ HTTP\/1\.1\r\n/gm)) {
        arrived();
        end = match.index + match[0].length;
      }
      // Keep a short tail: a request line may be split across reads.
      seen = seen.slice(end).slice(-64);
    }
  } catch {
    // The client gave up and closed the connection.
  }
}
