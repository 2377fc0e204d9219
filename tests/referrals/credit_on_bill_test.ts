/**
 * Referral credit on a subscriber's bill, through the app and the Stripe simulator: a friend's
 * first payment moves the referrer's next charge back by 45 days (by 90 for two friends), for
 * monthly and annual plans alike; a replayed or duplicated conversion moves nothing more; a
 * Stripe failure while moving is retried and the date moves once.
 */
import assert from "node:assert/strict";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { assertLedgerExplainsCredit } from "../helpers/ledger.ts";
import {
  access,
  advance,
  AMEX,
  chargeDate,
  DAY,
  invitedReader,
  MASTERCARD,
  nextCharge,
  person,
  reader,
  settings,
  settle,
  subscribe,
  text,
} from "../helpers/subscribers.ts";
import { withTransaction } from "../../lib/db/client.ts";
import { grantCredit } from "../../lib/referrals/credits.ts";
import { moveNextCharge } from "../../lib/billing/next_charge.ts";
import { formatDate } from "../../lib/format.ts";
import { runAdminCommand } from "../../lib/admin/commands.ts";
import type { Job } from "../../lib/jobs/queue.ts";

// Friends pay with cards of their own: a card the referrer has used would be held.

function oneMonthAfter(unixSeconds: number): Date {
  const date = new Date(unixSeconds * 1000);
  date.setUTCMonth(date.getUTCMonth() + 1);
  return date;
}

async function paidCharges(app: TestApp, subscriptionId: string): Promise<number[]> {
  const invoices = await app.stripe!.invoices.list({ subscription: subscriptionId, limit: 100 });
  return invoices.data
    .filter((invoice) => invoice.status === "paid" && invoice.amount_paid > 0)
    .map((invoice) => invoice.amount_paid);
}

Deno.test("a monthly referrer's next payment moves 45 days when a friend pays, 90 for two; nothing is charged meanwhile", async () => {
  const app = await createTestApp({ payments: "simulator" });
  try {
    const referrer = await reader(app, "moves@example.com");
    const own = await subscribe(app, referrer, "monthly");
    const natural = chargeDate(own);

    const first = await invitedReader(app, referrer, "friend-one@example.com");
    const firstSubscription = await subscribe(app, first, "monthly", "Pay", MASTERCARD);
    assert.deepEqual(await nextCharge(app, own.id), new Date(natural.getTime() + 45 * DAY));
    assert.deepEqual(
      await nextCharge(app, firstSubscription.id),
      new Date(oneMonthAfter(firstSubscription.start_date).getTime() + 45 * DAY),
      "the friend's own next payment moves too",
    );
    assert.match(
      text(await settings(app, referrer)),
      new RegExp(
        `Next payment £7\\.00 on ${
          formatDate(new Date(natural.getTime() + 45 * DAY))
        } \\(moved 45 days by referral credit\\)`,
      ),
    );

    const second = await invitedReader(app, referrer, "friend-two@example.com");
    await subscribe(app, second, "monthly", "Pay", AMEX);
    const moved = new Date(natural.getTime() + 90 * DAY);
    assert.deepEqual(await nextCharge(app, own.id), moved);
    assert.match(text(await settings(app, referrer)), /\(moved 90 days by referral credit\)/);
    const history = text(await settings(app, referrer));
    assert.equal(history.match(/A friend you invited subscribed Added/g)?.length, 2, history);

    // Past the date the charge would have been taken, and past the credit: still reading, and
    // charged only once the moved date comes.
    await advance(app, (moved.getTime() - app.sim!.now().getTime()) / DAY - 1);
    assert.deepEqual(await paidCharges(app, own.id), [700]);
    assert.equal(await access(app, referrer), true);
    await advance(app, 2);
    assert.deepEqual(await paidCharges(app, own.id), [700, 700]);
    assert.equal((await person(app, referrer)).stripeSubscriptionStatus, "active");
    await assertLedgerExplainsCredit(app.db.sql);
  } finally {
    await app.close();
  }
});

Deno.test("an annual subscriber's renewal moves 45 days when a friend pays", async () => {
  const app = await createTestApp({ payments: "simulator" });
  try {
    const referrer = await reader(app, "annual-moves@example.com");
    const own = await subscribe(app, referrer, "annual");
    await advance(app, 15); // the trial ends and the year is paid for
    assert.deepEqual(await paidCharges(app, own.id), [7000]);
    const renewal = await nextCharge(app, own.id);

    const friend = await invitedReader(app, referrer, "annual-friend@example.com");
    await subscribe(app, friend, "monthly", "Pay", MASTERCARD);
    const moved = new Date(renewal.getTime() + 45 * DAY);
    assert.deepEqual(await nextCharge(app, own.id), moved);
    assert.match(
      text(await settings(app, referrer)),
      new RegExp(
        `Next payment £70\\.00 on ${formatDate(moved)} \\(moved 45 days by referral credit\\)`,
      ),
    );
    await assertLedgerExplainsCredit(app.db.sql);
  } finally {
    await app.close();
  }
});

Deno.test("a replayed or duplicated conversion moves nothing more", async () => {
  const app = await createTestApp({ payments: "simulator" });
  try {
    const referrer = await reader(app, "replays@example.com");
    const own = await subscribe(app, referrer, "monthly");
    const friend = await invitedReader(app, referrer, "replayed-friend@example.com");
    await subscribe(app, friend, "monthly", "Pay", MASTERCARD);
    const moved = await nextCharge(app, own.id);
    assert.deepEqual(moved, new Date(chargeDate(own).getTime() + 45 * DAY));

    const [{ eventId }] = await app.db.sql`
      select event_id from stripe_events
      where event_type = 'invoice.paid'
        and (payload::jsonb #>> '{data,object,amount_paid}')::int > 0
        and payload::jsonb #>> '{data,object,customer}' = ${
      (await person(app, friend)).stripeCustomerId
    }`;
    await Promise.all([1, 2, 3, 4, 5].map(() => app.sim!.redeliver(eventId)));
    await settle(app);
    const replay = await runAdminCommand(app.services, ["replay", eventId]);
    assert.equal(replay.code, 1);
    assert.match(replay.lines.join("\n"), /already processed|refused/);
    await settle(app);

    assert.deepEqual(await nextCharge(app, own.id), moved);
    const [{ moves, grants, jobs }] = await app.db.sql`
      select (select count(*)::int from charge_moves) as moves,
             (select count(*)::int from credit_grants) as grants,
             (select count(*)::int from jobs where kind = 'move_next_charge') as jobs`;
    assert.deepEqual([moves, grants, jobs], [2, 2, 2], "one move per side of one referral");
    await assertLedgerExplainsCredit(app.db.sql);
  } finally {
    await app.close();
  }
});

Deno.test("a Stripe failure while moving the charge is retried, and the date moves once", async () => {
  const app = await createTestApp({ payments: "simulator" });
  try {
    const me = await reader(app, "retried@example.com");
    const own = await subscribe(app, me, "monthly");
    const natural = chargeDate(own);
    const { id: userId } = await person(app, me);
    await withTransaction(
      app.db.sql,
      (tx) => grantCredit(tx, { userId, days: 10, reason: "admin_grant" }, app.services.now()),
    );

    // Stripe fails the move itself, after the app has planned it.
    app.sim!.failNextRequests({ count: 1, status: 500, match: "POST /v1/subscriptions/" });
    await app.jobs.wake();
    const [failed] = await app.db.sql<Job[]>`select * from jobs where kind = 'move_next_charge'`;
    assert.equal(failed.attempts, 1);
    assert.equal(failed.doneAt, null);
    assert.ok(failed.lastError, "the failure is kept on the job");
    assert.deepEqual(await nextCharge(app, own.id), natural, "not moved yet");
    const [{ planned }] = await app.db.sql`select count(*)::int as planned from charge_moves`;
    assert.equal(planned, 1, "the move was planned before Stripe failed");

    await advance(app, 1); // past the job's backoff
    const moved = new Date(natural.getTime() + 10 * DAY);
    assert.deepEqual(await nextCharge(app, own.id), moved);
    const [done] = await app.db.sql<Job[]>`select * from jobs where id = ${failed.id}`;
    assert.ok(done.doneAt);
    assert.equal(done.attempts, 2);

    // A runner whose lease lapsed after Stripe answered does the job again: nothing moves twice.
    await moveNextCharge(app.services, done);
    await settle(app);
    assert.deepEqual(await nextCharge(app, own.id), moved);
    await assertLedgerExplainsCredit(app.db.sql);
  } finally {
    await app.close();
  }
});
