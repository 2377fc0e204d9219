/**
 * The embedded PostgreSQL used when `DATABASE_URL` is unset: PGlite (Postgres compiled to WASM)
 * served over the wire protocol, so the app uses the same postgres.js client and SQL as in
 * production. Development and tests only; production refuses to start without DATABASE_URL.
 *
 * PGlite is one backend. Several clients may connect (the app, `deno task admin`, a second app
 * instance), and they take turns: a connection holds the backend from its first message until
 * the backend is idle again — the end of its statement batch, or of its whole transaction. So a
 * transaction is never interleaved with another connection's statements, and an extended-protocol
 * batch (Parse, Bind, Execute, Sync) is never split. What a single backend cannot give is real
 * concurrency: a connection that waits inside its transaction for another connection (a row lock
 * held elsewhere, say) waits forever. Tests that need that run on a PostgreSQL server.
 *
 * `@electric-sql/pglite-socket` multiplexes connections message by message, which lets one
 * connection's Bind land on another's Parse; this server switches only at batch boundaries.
 */
import { PGlite } from "@electric-sql/pglite";

/** The app needs no more: statements run one at a time on the single backend anyway. */
export const EMBEDDED_POOL_SIZE = 1;

export interface EmbeddedPostgres {
  url: string;
  /** Stop serving and close the database. */
  stop(): Promise<void>;
}

/** Open (or create) the database kept in `dataDir`, or an in-memory one when omitted. */
export async function openPGlite(dataDir?: string): Promise<PGlite> {
  if (dataDir) await Deno.mkdir(dataDir, { recursive: true });
  return await PGlite.create(dataDir);
}

export async function startEmbeddedPostgres(dataDir: string): Promise<EmbeddedPostgres> {
  const db = await openPGlite(dataDir);
  const served = serveEmbedded(db);
  return {
    url: served.url,
    async stop() {
      await served.close();
      await db.close();
    },
  };
}

export interface ServedPGlite {
  url: string;
  /** Stop accepting, end every connection (rolling back what each left open); `db` stays open. */
  close(): Promise<void>;
}

/** Serve a PGlite instance on a free loopback port. */
export function serveEmbedded(db: PGlite): ServedPGlite {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const backend = new BackendTurns();
  const connections = new Map<Deno.Conn, Promise<void>>();
  const accepting = (async () => {
    for await (const conn of listener) {
      // Replies are small and each one is awaited: never hold them back for coalescing.
      conn.setNoDelay(true);
      connections.set(
        conn,
        serveConnection(db, backend, conn).finally(() => connections.delete(conn)),
      );
    }
  })().catch(() => {});
  const { port } = listener.addr as Deno.NetAddr;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async close() {
      listener.close();
      await accepting;
      const served = [...connections];
      for (const [conn] of served) {
        try {
          conn.close();
        } catch {
          // It closed itself meanwhile.
        }
      }
      await Promise.all(served.map(([, done]) => done));
    },
  };
}

/** Whose turn it is on the single backend; the others wait in arrival order. */
class BackendTurns {
  #holder: symbol | null = null;
  #waiting: { who: symbol; go: () => void }[] = [];

  async take(who: symbol): Promise<void> {
    if (this.#holder === who) return;
    if (this.#holder === null) {
      this.#holder = who;
      return;
    }
    const turn = Promise.withResolvers<void>();
    this.#waiting.push({ who, go: turn.resolve });
    await turn.promise;
  }

  holds(who: symbol): boolean {
    return this.#holder === who;
  }

  release(who: symbol): void {
    if (this.#holder !== who) return;
    const next = this.#waiting.shift();
    this.#holder = next?.who ?? null;
    next?.go();
  }
}

const SSL_REQUEST = 80877103;
const GSS_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const SYNC = 0x53; // 'S'
const QUERY = 0x51; // 'Q'
const TERMINATE = 0x58; // 'X'
const READY_FOR_QUERY = 0x5a; // 'Z'
const IDLE = 0x49; // 'I'
const SYNC_MESSAGE = new Uint8Array([SYNC, 0, 0, 0, 4]);

async function serveConnection(db: PGlite, backend: BackendTurns, conn: Deno.Conn) {
  const me = Symbol("connection");
  let buffered: Uint8Array = new Uint8Array(0);
  // Before the startup message, messages carry no type byte.
  let starting = true;
  try {
    for await (const chunk of conn.readable) {
      buffered = concat(buffered, chunk);
      const replies: Uint8Array[] = [];
      while (true) {
        const length = messageLength(buffered, starting);
        if (length === null || buffered.length < length) break;
        const message = buffered.slice(0, length);
        buffered = buffered.slice(length);
        const startup = starting;
        if (starting) {
          const code = new DataView(message.buffer).getInt32(4);
          if (code === SSL_REQUEST || code === GSS_REQUEST) {
            replies.push(new Uint8Array([0x4e])); // 'N': no encryption; the client goes on.
            continue;
          }
          if (code === CANCEL_REQUEST) return;
          starting = false;
        } else if (message[0] === TERMINATE) return;
        await backend.take(me);
        const output = await execute(db, message);
        replies.push(output);
        const batchEnds = startup || message[0] === SYNC || message[0] === QUERY;
        if (batchEnds && readyStatus(output) === IDLE) backend.release(me);
      }
      for (const reply of replies) await writeAll(conn, reply);
    }
  } catch {
    // A client that went away mid-message needs no answer.
  } finally {
    if (backend.holds(me)) {
      // End whatever the client left open, so the next connection starts on an idle backend.
      await execute(db, SYNC_MESSAGE).catch(() => {});
      if (db.isInTransaction()) await db.exec("rollback").catch(() => {});
      backend.release(me);
    }
    try {
      conn.close();
    } catch {
      // Closed already, by the client or by `close()`.
    }
  }
}

/** The whole length of the next message, or null while its header is incomplete. */
function messageLength(buffer: Uint8Array, untyped: boolean): number | null {
  const view = new DataView(buffer.buffer, buffer.byteOffset);
  if (untyped) return buffer.length >= 4 ? view.getInt32(0) : null;
  return buffer.length >= 5 ? 1 + view.getInt32(1) : null;
}

async function execute(db: PGlite, message: Uint8Array): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  await db.runExclusive(() =>
    db.execProtocolRawStream(message, { onRawData: (data) => parts.push(data.slice()) })
  );
  return parts.reduce(concat, new Uint8Array(0));
}

/** The transaction status of the ReadyForQuery that ends `output`, if it ends with one. */
function readyStatus(output: Uint8Array): number | null {
  const at = output.length - 6;
  return at >= 0 && output[at] === READY_FOR_QUERY ? output[at + 5] : null;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let written = 0; written < bytes.length;) {
    written += await conn.write(bytes.subarray(written));
  }
}
