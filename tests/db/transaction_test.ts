/**
 * `withTransaction`: all of it or none of it — the first statement too, which goes to the server
 * with the BEGIN — whatever the callback does with a statement's failure, and never a query sent
 * on a transaction that has ended or whose connection has closed.
 */
import assert from "node:assert/strict";
import { connect, type Sql, type Tx, withTransaction } from "../../lib/db/client.ts";
import { createTestDatabase } from "../helpers/db.ts";
import { serverOnly } from "../helpers/needs.ts";

async function withTable(fn: (sql: Sql) => Promise<void>): Promise<void> {
  const db = await createTestDatabase({ migrate: false });
  const sql = connect(db.url, { max: 3 });
  try {
    await sql`create table notes (id int primary key, body text not null)`;
    await fn(sql);
  } finally {
    await sql.end({ timeout: 5 });
    await db.close();
  }
}

async function notes(sql: Sql): Promise<number[]> {
  const rows = await sql<{ id: number }[]>`select id from notes order by id`;
  return rows.map((row) => row.id);
}

Deno.test("a transaction commits when its callback resolves, with what the callback returned", async () => {
  await withTable(async (sql) => {
    const answer = await withTransaction(sql, async (tx) => {
      await tx`insert into notes values (1, 'first')`;
      const [row] = await tx<{ body: string }[]>`select body from notes where id = 1`;
      return row.body;
    });
    assert.equal(answer, "first");
    assert.deepEqual(await notes(sql), [1]);
  });
});

Deno.test("a callback that throws leaves nothing, its first statement included", async () => {
  await withTable(async (sql) => {
    await assert.rejects(
      withTransaction(sql, async (tx) => {
        // Sent with the BEGIN: it must be inside the transaction all the same.
        await tx`insert into notes values (1, 'sent with the begin')`;
        await tx`insert into notes values (2, 'second')`;
        throw new Error("changed my mind");
      }),
      /changed my mind/,
    );
    assert.deepEqual(await notes(sql), []);
  });
});

Deno.test("a statement that failed rolls everything back, even when the callback went on", async () => {
  await withTable(async (sql) => {
    await sql`insert into notes values (1, 'there already')`;
    await assert.rejects(
      withTransaction(sql, async (tx) => {
        await tx`insert into notes values (2, 'kept?')`;
        await tx`insert into notes values (1, 'duplicate')`.catch(() => "swallowed");
      }),
      (error: { code?: string }) => error.code === "23505",
      "the failure of the statement is what comes out",
    );
    assert.deepEqual(await notes(sql), [1]);

    await assert.rejects(
      withTransaction(sql, async (tx) => {
        await tx`insert into notes values (1, 'duplicate')`.catch(() => "swallowed");
        // Everything after the failure only hears that the transaction is aborted (25P02).
        await tx`insert into notes values (3, 'after')`;
      }),
      (error: { code?: string }) => error.code === "23505",
      "the first failure, not the 25P02 that followed it",
    );
    assert.deepEqual(await notes(sql), [1]);
  });
});

Deno.test("a query on a transaction that has ended is refused, not sent", async () => {
  await withTable(async (sql) => {
    let leaked: Tx | null = null;
    await withTransaction(sql, async (tx) => {
      leaked = tx;
      await tx`insert into notes values (1, 'inside')`;
    });
    assert.throws(
      () => leaked!`insert into notes values (2, 'outside')`,
      (error: { code?: string }) => error.code === "CONNECTION_CLOSED",
    );
    assert.throws(() => leaked!.savepoint, /not available inside withTransaction/);
    assert.deepEqual(await notes(sql), [1]);
    assert.equal((await sql`select 1 as one`)[0].one, 1, "the pool goes on");
  });
});

Deno.test({
  ...serverOnly(
    "a transaction whose connection is killed fails with the close, sends nothing more, and the pool goes on",
    "a backend to terminate",
  ),
  async fn() {
    await withTable(async (sql) => {
      await assert.rejects(
        withTransaction(sql, async (tx) => {
          const [{ pid }] = await tx<{ pid: number }[]>`select pg_backend_pid() as pid`;
          await tx`insert into notes values (1, 'lost with the connection')`;
          // From another of the pool's connections.
          await sql`select pg_terminate_backend(${pid})`;
          // Waiting on something that is not the database: the close arrives meanwhile.
          await new Promise((resolve) => setTimeout(resolve, 300));
          await tx`insert into notes values (2, 'never sent')`;
        }),
        (error: { code?: string }) =>
          ["CONNECTION_CLOSED", "CONNECTION_DESTROYED", "ECONNRESET", "EPIPE"].includes(
            error.code ?? "",
          ),
      );
      assert.deepEqual(await notes(sql), []);
      for (let i = 0; i < 4; i++) {
        assert.equal((await sql`select 1 as one`)[0].one, 1, "the pool replaced the connection");
      }
      await withTransaction(sql, async (tx) => {
        await tx`insert into notes values (3, 'after the kill')`;
      });
      assert.deepEqual(await notes(sql), [3]);
    });
  },
});
