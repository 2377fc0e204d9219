/**
 * `readAtOnce`: independent reads in one statement — one round trip, one snapshot, no
 * transaction — each answered as its module parses it; and the row reads that stand in for the
 * driver's rows give what the driver would have.
 */
import assert from "node:assert/strict";
import { connect } from "../../lib/db/client.ts";
import { known, mapRead, type Read, readAtOnce, readOne } from "../../lib/db/reads.ts";
import { findSubscription, subscriptionRead } from "../../lib/billing/subscriptions.ts";
import { createTestDatabase } from "../helpers/db.ts";

const clock: Read<Date> = {
  query: (db) => db`select now()`,
  parse: (at) => new Date(at as string),
};
const count = (n: number): Read<number> => ({
  query: (db) => db`select count(*)::int from generate_series(1, ${n})`,
  parse: (value) => value as number,
});

Deno.test("reads at once: one statement, one snapshot, each read parsed its own way", async (t) => {
  const db = await createTestDatabase({ migrate: false });
  const sent: string[] = [];
  const sql = connect(db.url, { max: 2, onQuery: (statement) => sent.push(statement.trim()) });
  try {
    await t.step("the answers come back in order, from one statement", async () => {
      await sql`select 'connected'`;
      sent.length = 0;
      const [first, three, doubled, nothing, second] = await readAtOnce(sql, [
        clock,
        count(3),
        mapRead(count(4), (n) => n * 2),
        known("asked nobody"),
        clock,
      ]);
      assert.equal(sent.length, 1, `one statement, not ${sent.length}: ${sent.join(" | ")}`);
      assert.equal(first.getTime(), second.getTime(), "one snapshot's clock");
      assert.equal(three, 3);
      assert.equal(doubled, 8);
      assert.equal(nothing, "asked nobody");
    });

    await t.step("answers known without asking send nothing", async () => {
      sent.length = 0;
      const [nothing, doubled] = await readAtOnce(sql, [
        known(null),
        mapRead(known(2), (n) => n * 2),
      ]);
      assert.equal(nothing, null);
      assert.equal(doubled, 4);
      assert.equal(sent.length, 0, `nothing sent, not: ${sent.join(" | ")}`);
    });

    await t.step("a read alone is one statement too", async () => {
      sent.length = 0;
      assert.equal(await readOne(sql, count(5)), 5);
      assert.equal(sent.length, 1);
    });

    await t.step("a failing read rejects with its error, and the pool goes on", async () => {
      const failing: Read<number> = {
        query: (db) => db`select 1 / 0`,
        parse: (value) => value as number,
      };
      await assert.rejects(readAtOnce(sql, [count(1), failing]), /division by zero/);
      assert.equal(await readOne(sql, count(2)), 2);
    });
  } finally {
    await sql.end();
    await db.close();
  }
});

Deno.test("a subscription read as json is the row findSubscription reads", async () => {
  const db = await createTestDatabase();
  try {
    const [{ id }] = await db.sql`
      insert into users (email, referral_code) values ('row@example.com', 'code-row-0000001')
      returning id`;
    await db.sql`
      insert into subscriptions
        (stripe_subscription_id, user_id, status, started_at, trial_end_at, current_period_end,
         cancel_at_period_end, price_id, amount, currency, past_due_since, last_event_at,
         ended_at, duplicate_of, duplicate_resolved_at, duplicate_refunded_amount)
      values ('sub_row', ${id}, 'past_due', '2026-01-02T03:04:05.678901Z',
              '2026-01-09T00:00:00Z', '2026-02-02T03:04:05Z', true, 'price_annual', 4900,
              'gbp', '2026-02-03T00:00:00Z', '2026-02-03T01:02:03.5Z', '2026-03-01T00:00:00Z',
              'sub_other', '2026-03-02T00:00:00Z', 4900)`;
    const row = (await findSubscription(db.sql, "sub_row"))!;
    const read = await readOne(db.sql, subscriptionRead("sub_row"));
    assert.deepEqual(read, { ...row });
    for (const [key, value] of Object.entries(row)) {
      if (value instanceof Date) assert.ok(read![key as keyof typeof read] instanceof Date, key);
    }
    assert.equal(await readOne(db.sql, subscriptionRead("sub_none")), null);
  } finally {
    await db.close();
  }
});
