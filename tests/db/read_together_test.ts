/**
 * `readTogether`: independent reads in one transaction whose COMMIT travels with them, and the
 * guard that refuses a read sent after the others (it would come after the COMMIT).
 */
import assert from "node:assert/strict";
import { connect, readTogether } from "../../lib/db/client.ts";
import { createTestDatabase } from "../helpers/db.ts";

Deno.test("reads sent together: one transaction, the COMMIT sent behind them", async (t) => {
  const db = await createTestDatabase({ migrate: false });
  const sent: string[] = [];
  const sql = connect(db.url, { max: 2, onQuery: (statement) => sent.push(statement.trim()) });
  try {
    await t.step("the reads come back from one transaction", async () => {
      await sql`select 'connected'`;
      sent.length = 0;
      const [first, second] = await readTogether(sql, (tx) =>
        Promise.all([
          tx<{ at: Date }[]>`select now() as at, 'first' as which`,
          tx<{ at: Date }[]>`select now() as at, 'second' as which`,
        ]));
      assert.equal(first[0].at.getTime(), second[0].at.getTime(), "one transaction's clock");
      assert.deepEqual(sent.map((s) => s.split(/\s/)[0].toLowerCase()), [
        "begin",
        "select",
        "select",
        "commit",
      ]);
    });

    await t.step("a read sent after an await is refused, and the pool goes on", async () => {
      await assert.rejects(
        readTogether(sql, async (tx) => {
          await tx`select 1`;
          return await tx`select 2`;
        }),
        /a read sent after the others/,
      );
      assert.equal((await sql`select 3 as n`)[0].n, 3);
    });

    await t.step("a failing read rejects with its error, and the pool goes on", async () => {
      await assert.rejects(
        readTogether(sql, (tx) => Promise.all([tx`select 1 / 0`, tx`select 1`])),
        /division by zero/,
      );
      assert.equal((await sql`select 4 as n`)[0].n, 4);
    });
  } finally {
    await sql.end();
    await db.close();
  }
});
