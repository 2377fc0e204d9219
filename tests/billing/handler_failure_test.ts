import assert from "node:assert/strict";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import {
  deliver,
  deliverOk,
  invoiceObject,
  stripeEvent,
  subscriptionObject,
  WEBHOOK_SECRET,
} from "../helpers/stripe_events.ts";
import { createUser, reload } from "../helpers/users.ts";
import { runAdminCommand } from "../../lib/admin/commands.ts";
import { replayStripeEvent } from "../../lib/billing/webhook/ledger.ts";

const env = { STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET };

/**
 * Make `table` refuse `operation`, raising `message` with SQLSTATE `code`, so a handler fails at a
 * statement the test chooses; the function returned mends it.
 */
async function refuse(
  app: TestApp,
  table: string,
  operation: "insert" | "update",
  code: string,
  message: string,
): Promise<() => Promise<void>> {
  const name = `refuse_${operation}_${table}`;
  await app.db.sql.unsafe(`
    create function ${name}() returns trigger language plpgsql as
      $$ begin raise exception '${message}' using errcode = '${code}'; end $$;
    create trigger ${name} before ${operation} on ${table}
      for each row execute function ${name}();`);
  return async () => {
    await app.db.sql.unsafe(`drop trigger ${name} on ${table}; drop function ${name}();`);
  };
}

/** Make the ledger refuse inserts, so a conversion fails after it has already written. */
const breakLedger = (app: TestApp, code: string) =>
  refuse(app, "credit_grants", "insert", code, "ledger is read-only for this test");

/** A referrer, the friend they referred, and the friend's first payment (a new event each call). */
async function referredBuyer(app: TestApp) {
  const referrer = await createUser(app.db.sql);
  const buyer = await createUser(app.db.sql, { referredBy: referrer });
  const firstPayment = () =>
    stripeEvent("invoice.paid", invoiceObject(buyer.stripeCustomerId!, 700, "subscription_create"));
  return { referrer, buyer, firstPayment };
}

Deno.test("a handler failure rolls back, is recorded, and replay fixes it", async () => {
  const app = await createTestApp({ env });
  try {
    const { referrer, buyer, firstPayment } = await referredBuyer(app);
    // 22023 (invalid parameter value) is a data error: the same event fails the same way again.
    const mendLedger = await breakLedger(app, "22023");

    const paid = firstPayment();
    assert.equal(await deliverOk(app, paid), "handler_error");

    // The referral row was stamped before the ledger refused: the rollback undid it.
    const [referral] = await app.db.sql`select converted_at, credited_at from referrals`;
    assert.equal(referral.convertedAt, null);
    assert.equal(referral.creditedAt, null);
    assert.equal((await reload(app.db.sql, buyer)).creditUntil, null);
    const [audit] = await app.db
      .sql`select processed_at, error from stripe_events where event_id = ${paid.id}`;
    assert.equal(audit.processedAt, null);
    assert.match(audit.error, /ledger is read-only for this test/);

    const services = app.services;
    const listed = await runAdminCommand(services, ["events", "--failed"]);
    assert.equal(listed.code, 0);
    assert.equal(listed.lines.length, 1);
    assert.match(listed.lines[0], new RegExp(`${paid.id}  invoice.paid  FAILED: .*read-only`));

    const stillBroken = await runAdminCommand(services, ["replay", paid.id]);
    assert.deepEqual(stillBroken, { code: 1, lines: [`${paid.id}: handler_error`] });

    await mendLedger();
    assert.deepEqual(await runAdminCommand(services, ["replay", paid.id]), {
      code: 0,
      lines: [`${paid.id}: ok`],
    });
    const [fixed] = await app.db
      .sql`select processed_at, error from stripe_events where event_id = ${paid.id}`;
    assert.ok(fixed.processedAt);
    assert.equal(fixed.error, null);
    assert.ok((await reload(app.db.sql, buyer)).creditUntil, "the buyer got the credit on replay");
    assert.ok((await reload(app.db.sql, referrer)).creditUntil, "and so did the referrer");

    const again = await runAdminCommand(services, ["replay", paid.id]);
    assert.equal(again.code, 1);
    assert.match(again.lines[0], /already processed/);
    assert.equal(await deliverOk(app, paid), "duplicate", "a late redelivery changes nothing");
    const [{ count }] = await app.db.sql`select count(*)::int from credit_grants`;
    assert.equal(count, 2);
  } finally {
    await app.close();
  }
});

Deno.test("a database failure inside the handler answers 5xx and stores nothing, so Stripe retries", async () => {
  const app = await createTestApp({ env });
  try {
    const { buyer, firstPayment } = await referredBuyer(app);
    // 40001 is a serialisation failure: transient, so Stripe must deliver again.
    const mendLedger = await breakLedger(app, "40001");
    const paid = firstPayment();
    const failed = await deliver(app, paid);
    assert.equal(failed.status, 500);
    assert.equal((await failed.json()).error, "internal_error");
    const [{ count }] = await app.db.sql`select count(*)::int from stripe_events`;
    assert.equal(count, 0, "no audit row: the retry is a first delivery");

    await mendLedger();
    assert.equal(await deliverOk(app, paid), "ok");
    assert.ok((await reload(app.db.sql, buyer)).creditUntil);
  } finally {
    await app.close();
  }
});

Deno.test("a replay's final mark failing rolls back everything the replay did", async () => {
  const app = await createTestApp({ env });
  try {
    const { buyer, firstPayment } = await referredBuyer(app);
    const mendLedger = await breakLedger(app, "22023");
    const paid = firstPayment();
    assert.equal(await deliverOk(app, paid), "handler_error");
    await mendLedger();
    // The mark is the replay's last statement, sent with the COMMIT: failing, it turns that into
    // a rollback.
    const allowMarks = await refuse(
      app,
      "stripe_events",
      "update",
      "40001",
      "no marks for this test",
    );
    await assert.rejects(replayStripeEvent(app.services, paid.id), /no marks for this test/);
    const [counts] = await app.db.sql`
      select (select count(*)::int from credit_grants) as grants,
             (select count(*)::int from stripe_events
              where processed_at is null and error is not null) as failed_events`;
    assert.deepEqual(counts, { grants: 0, failedEvents: 1 }, "the replay's work was rolled back");
    assert.equal((await reload(app.db.sql, buyer)).creditUntil, null);

    await allowMarks();
    assert.equal(await replayStripeEvent(app.services, paid.id), "ok");
    assert.ok((await reload(app.db.sql, buyer)).creditUntil);
  } finally {
    await app.close();
  }
});

/*
 * Every SQLSTATE class the database can answer with, raised from inside the handler's
 * transaction: only data errors (22, 23) are the event's fault and recorded for good; anything
 * else is the database failing, so nothing is stored and Stripe must deliver again.
 */
const RETRIED = [
  ["08006", "connection failure"],
  ["25P02", "in failed transaction"],
  ["26000", "prepared statement lost (a transaction pooler)"],
  ["40001", "serialisation failure"],
  ["40P01", "deadlock"],
  ["42P01", "undefined table (schema behind the code)"],
  ["53300", "too many connections"],
  ["55P03", "lock not available"],
  ["57014", "statement cancelled"],
  ["57P01", "admin shutdown"],
  ["58030", "I/O error"],
  ["P0001", "raised by a trigger"],
  ["XX000", "internal error"],
] as const;
const RECORDED = [
  ["22001", "value too long"],
  ["22P02", "invalid text representation"],
  ["23502", "not null violation"],
  ["23505", "unique violation"],
] as const;

Deno.test("database failures of every class answer 5xx; only data errors are handler errors", async (t) => {
  const app = await createTestApp({ env });
  try {
    const { firstPayment: paid } = await referredBuyer(app);
    for (const [sqlstate, what] of RETRIED) {
      await t.step(`${sqlstate} ${what} → 500, nothing stored`, async () => {
        const mendLedger = await breakLedger(app, sqlstate);
        try {
          const event = paid();
          const answer = await deliver(app, event);
          assert.equal(answer.status, 500);
          await answer.body?.cancel();
          const rows = await app.db.sql`select 1 from stripe_events where event_id = ${event.id}`;
          assert.equal(rows.length, 0, "no audit row: the retry is a first delivery");
        } finally {
          await mendLedger();
        }
      });
    }
    for (const [sqlstate, what] of RECORDED) {
      await t.step(`${sqlstate} ${what} → 200 handler_error, recorded`, async () => {
        const mendLedger = await breakLedger(app, sqlstate);
        try {
          const event = paid();
          assert.equal(await deliverOk(app, event), "handler_error");
          const [audit] = await app.db
            .sql`select processed_at, error from stripe_events where event_id = ${event.id}`;
          assert.equal(audit.processedAt, null);
          assert.match(audit.error, /ledger is read-only for this test/);
        } finally {
          await mendLedger();
        }
      });
    }
    const [{ count }] = await app.db.sql`select count(*)::int from credit_grants`;
    assert.equal(count, 0, "no step credited anyone");
  } finally {
    await app.close();
  }
});

Deno.test("replay of an event stored truncated needs Stripe to fetch it", async () => {
  const app = await createTestApp({ env });
  try {
    const big = stripeEvent("invoice.paid", {
      ...invoiceObject("cus_x", 0, "manual"),
      memo: "x".repeat(20_000),
    });
    await app.db.sql`
      insert into stripe_events (event_id, event_type, payload, payload_truncated)
      values (${big.id}, 'invoice.paid', ${JSON.stringify(big).slice(0, 16384)}, true)`;
    const services = app.services;
    const result = await runAdminCommand(services, ["replay", big.id]);
    assert.equal(result.code, 1);
    assert.match(result.lines[0], /stored truncated and Stripe is not configured/);
    assert.deepEqual((await runAdminCommand(services, ["replay", "evt_never"])).lines, [
      "error: no event evt_never has been received",
    ]);
  } finally {
    await app.close();
  }
});

Deno.test("statements sent with the COMMIT that fail roll the event back: 5xx for the database, recorded for its data", async (t) => {
  const app = await createTestApp({ env });
  try {
    const user = await createUser(app.db.sql);
    const customer = user.stripeCustomerId!;
    const created = stripeEvent(
      "customer.subscription.created",
      subscriptionObject("sub_last", customer, "active"),
      { created: 1_800_000_000 },
    );
    assert.equal(await deliverOk(app, created), "ok");
    const refuseUpdates = (code: string) =>
      refuse(app, "subscriptions", "update", code, "no updates for this test");
    const recorded = async () => {
      const [row] = await app.db.sql`
        select s.cancel_at_period_end, s.last_event_at,
               (select count(*)::int from stripe_events) as events,
               (select count(*)::int from stripe_events where error is not null) as failed
        from subscriptions s where stripe_subscription_id = 'sub_last'`;
      return row;
    };
    const before = await recorded();
    // A live subscription's update owes no notice: its change and the person's projection go
    // with the COMMIT.
    const updated = (second: number) =>
      stripeEvent(
        "customer.subscription.updated",
        subscriptionObject("sub_last", customer, "active", { cancel_at_period_end: false }),
        { created: second },
      );

    await t.step("a database failure: 5xx, nothing stored", async () => {
      const allowUpdates = await refuseUpdates("40001");
      const failed = await deliver(app, updated(1_800_000_100));
      assert.equal(failed.status, 500);
      await failed.body?.cancel();
      assert.deepEqual(await recorded(), before);
      await allowUpdates();
    });

    await t.step("a data error: 200, the event recorded as failed and nothing else", async () => {
      const allowUpdates = await refuseUpdates("22023");
      const event = updated(1_800_000_200);
      assert.equal(await deliverOk(app, event), "handler_error");
      const [audit] = await app.db.sql`
        select processed_at, error from stripe_events where event_id = ${event.id}`;
      assert.equal(audit.processedAt, null);
      assert.match(audit.error, /no updates for this test/);
      assert.deepEqual(await recorded(), { ...before, events: 2, failed: 1 });
      await allowUpdates();
      assert.equal(await replayStripeEvent(app.services, event.id), "ok");
      const after = await recorded();
      assert.equal(after.lastEventAt.getTime(), 1_800_000_200_000);
    });
  } finally {
    await app.close();
  }
});

Deno.test("a handler's read failing on the event's data: recorded as a handler error, not retried", async () => {
  const app = await createTestApp({ env });
  try {
    const user = await createUser(app.db.sql);
    // PostgreSQL refuses a NUL in text: the subscription's lookup, asked in the audit insert's
    // statement, fails on the event's own data.
    const event = stripeEvent(
      "customer.subscription.created",
      subscriptionObject("sub_\u0000nul", user.stripeCustomerId!, "active"),
    );
    assert.equal(await deliverOk(app, event), "handler_error");
    const [audit] = await app.db.sql`
      select processed_at, error from stripe_events where event_id = ${event.id}`;
    assert.equal(audit.processedAt, null);
    assert.match(audit.error, /invalid byte sequence/);
    assert.equal(await deliverOk(app, event), "duplicate");
    assert.equal(app.logs.records("http.server_error").length, 0);
  } finally {
    await app.close();
  }
});

Deno.test("a handler's locks failing on the event's data: recorded as a handler error, not retried", async () => {
  const app = await createTestApp({ env });
  try {
    const user = await createUser(app.db.sql);
    // PostgreSQL refuses a NUL in text: the person's lock, sent before the audit insert, fails on
    // the event's own data, and the insert behind it sees only an aborted transaction.
    const event = stripeEvent(
      "customer.subscription.created",
      subscriptionObject(`sub_${user.id}`, "cus_\u0000nul", "active"),
    );
    assert.equal(await deliverOk(app, event), "handler_error");
    const [audit] = await app.db.sql`
      select processed_at, error from stripe_events where event_id = ${event.id}`;
    assert.equal(audit.processedAt, null);
    assert.match(audit.error, /invalid byte sequence/);
    assert.equal(await deliverOk(app, event), "duplicate");
    assert.equal(app.logs.records("http.server_error").length, 0);
  } finally {
    await app.close();
  }
});
