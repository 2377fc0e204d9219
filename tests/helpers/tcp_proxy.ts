/**
 * A TCP proxy between the app and PostgreSQL, to show the app a database restart without
 * restarting the shared server: `down()` drops every connection and refuses new ones (the port
 * is closed, as while the server is stopped), `up()` accepts again on the same port.
 */

export interface TcpProxy {
  port: number;
  /** `url` with its host and port replaced by the proxy's. */
  via(url: string): string;
  /** Drop every open connection and refuse new ones. */
  down(): void;
  /** Accept connections again, on the same port. */
  up(): void;
  close(): void;
}

export function startTcpProxy(target: { hostname: string; port: number }): TcpProxy {
  let listener: Deno.Listener | null = null;
  const open = new Set<Deno.Conn>();
  const accept = (bound: Deno.Listener) => {
    (async () => {
      for await (const client of bound) relay(client, target, open);
    })().catch(() => {});
  };
  const listen = (port: number) => {
    const bound = Deno.listen({ hostname: "127.0.0.1", port });
    listener = bound;
    accept(bound);
    return (bound.addr as Deno.NetAddr).port;
  };
  const port = listen(0);
  const down = () => {
    listener?.close();
    listener = null;
    for (const conn of open) closeQuietly(conn);
    open.clear();
  };
  return {
    port,
    via(url) {
      const parsed = new URL(url);
      parsed.hostname = "127.0.0.1";
      parsed.port = String(port);
      return parsed.toString();
    },
    down,
    up() {
      if (!listener) listen(port);
    },
    close: down,
  };
}

function relay(
  client: Deno.Conn,
  target: { hostname: string; port: number },
  open: Set<Deno.Conn>,
) {
  open.add(client);
  Deno.connect(target).then((server) => {
    if (!open.has(client)) return closeQuietly(server);
    open.add(server);
    const end = () => {
      for (const conn of [client, server]) {
        open.delete(conn);
        closeQuietly(conn);
      }
    };
    pump(client, server).finally(end);
    pump(server, client).finally(end);
  }, () => {
    open.delete(client);
    closeQuietly(client);
  });
}

async function pump(from: Deno.Conn, to: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(64 * 1024);
  try {
    while (true) {
      const n = await from.read(buffer);
      if (n === null) return;
      let written = 0;
      while (written < n) written += await to.write(buffer.subarray(written, n));
    }
  } catch {
    // A closed side ends the relay; `end` closes the other.
  }
}

function closeQuietly(conn: Deno.Conn) {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}
