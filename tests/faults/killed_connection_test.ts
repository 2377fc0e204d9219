/**
 * The database connection dies in the middle of a webhook's transaction. The test pauses the
 * handler at a known point — waiting for a row lock the test holds (found with
 * `pg_blocking_pids`) — and terminates its backend: the delivery must fail with a 5xx, leave
 * nothing behind (no audit row, no half-applied change), never take the process down, and
 * Stripe's next attempt must apply it once. And while the webhook waits on a Stripe the test
 * controls, it holds no transaction to kill: it asks before it opens one.
 */
import assert from "node:assert/strict";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { serverOnly } from "../helpers/needs.ts";
import { createTestDatabase } from "../helpers/db.ts";
import { poolerOnly, startPgBouncer, throughPooler } from "../helpers/pgbouncer.ts";
import {
  deliverOk,
  invoiceObject,
  signedHeaders,
  stripeEvent,
  subscriptionObject,
  type TestEvent,
  WEBHOOK_SECRET,
} from "../helpers/stripe_events.ts";
import { createUser, reload } from "../helpers/users.ts";
import { assertLedgerExplainsCredit } from "../helpers/ledger.ts";
import { holdLock } from "../helpers/locks.ts";
import { startStuckServer } from "../helpers/stuck_server.ts";
import { createStripeClient } from "../../lib/stripe/client.ts";

async function post(url: string, event: TestEvent): Promise<Response> {
  const body = JSON.stringify(event);
  return await fetch(url, { method: "POST", headers: await signedHeaders(body), body });
}

async function tableCounts(app: TestApp) {
  const [counts] = await app.db.sql`
    select (select count(*)::int from stripe_events) as events,
           (select count(*)::int from credit_grants) as grants,
           (select count(*)::int from referrals where converted_at is not null) as converted`;
  return counts;
}

/**
 * Each test runs with the app connected straight to PostgreSQL, and again through PgBouncer in
 * transaction mode, where the killed backend sits behind the pooler's own connection.
 */
const ROUTES = [
  { how: "", only: (name: string) => serverOnly(name, "a backend to terminate") },
  { how: " (through PgBouncer)", only: poolerOnly, pooled: true },
];

/** The app on a fresh database, reached directly or through a PgBouncer started for it. */
async function appOn(route: typeof ROUTES[number], options: Parameters<typeof createTestApp>[0]) {
  const db = await createTestDatabase();
  const pooler = route.pooled ? await startPgBouncer(db.url) : null;
  const appDb = pooler ? await throughPooler(pooler, db) : db;
  const app = await createTestApp({ ...options, db: appDb });
  return {
    app,
    async close() {
      await app.close();
      if (pooler) {
        await appDb.close();
        await pooler.stop();
      }
      await db.close();
    },
  };
}

for (const route of ROUTES) {
  Deno.test({
    ...route.only(
      `a connection killed inside the webhook's transaction: 5xx, nothing stored, retry applies${route.how}`,
    ),
    async fn(t) {
      const { app, close } = await appOn(route, { env: { STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET } });
      try {
        const url = `${await app.listen()}/api/stripe/webhook`;
        const sql = app.db.sql;

        await t.step("killed after the referral and the buyer's credit were written", async () => {
          const referrer = await createUser(sql);
          const buyer = await createUser(sql, { referredBy: referrer });
          const paid = stripeEvent(
            "invoice.paid",
            invoiceObject(buyer.stripeCustomerId!, 700, "subscription_create"),
          );
          // The buyer's row, the referral and the buyer's ledger entry are written before the
          // handler locks the referrer's row to credit them.
          const lock = await holdLock(sql, "select 1 from users where id = $1 for update", [
            referrer.id,
          ]);
          const answer = post(url, paid);
          await lock.killWaiter();
          const failed = await answer;
          await lock.release();

          assert.equal(failed.status, 500);
          assert.equal((await failed.json()).error, "internal_error");
          assert.deepEqual(await tableCounts(app), { events: 0, grants: 0, converted: 0 });
          assert.equal((await reload(sql, buyer)).creditUntil, null);
          assert.equal((await reload(sql, referrer)).creditUntil, null);

          assert.equal(await deliverOk(app, paid), "ok", "Stripe's next attempt");
          assert.deepEqual(await tableCounts(app), { events: 1, grants: 2, converted: 1 });
          assert.equal(await deliverOk(app, paid), "duplicate");
          await assertLedgerExplainsCredit(sql);
        });

        await t.step("killed while recording a subscription change", async () => {
          const user = await createUser(sql);
          const created = stripeEvent(
            "customer.subscription.created",
            subscriptionObject("sub_killed", user.stripeCustomerId!, "active"),
            { created: 1_800_000_000 },
          );
          assert.equal(await deliverOk(app, created), "ok");
          const cancelled = stripeEvent(
            "customer.subscription.deleted",
            subscriptionObject("sub_killed", user.stripeCustomerId!, "canceled"),
            { created: 1_800_000_100 },
          );
          // The handler has recorded the delivery and locked the person when it reaches the
          // subscription's row.
          const lock = await holdLock(
            sql,
            "select 1 from subscriptions where stripe_subscription_id = $1 for update",
            ["sub_killed"],
          );
          const answer = post(url, cancelled);
          await lock.killWaiter();
          const failed = await answer;
          await lock.release();

          assert.equal(failed.status, 500);
          await failed.body?.cancel();
          const [audit] = await sql`
            select count(*)::int as count from stripe_events where event_id = ${cancelled.id}`;
          assert.equal(audit.count, 0, "no audit row for the failed delivery");
          const unchanged = await reload(sql, user);
          assert.equal(unchanged.tier, "paid");
          assert.equal(unchanged.stripeSubscriptionId, "sub_killed");
          const [subscription] = await sql`
            select status, ended_at from subscriptions where stripe_subscription_id = 'sub_killed'`;
          assert.deepEqual([subscription.status, subscription.endedAt], ["active", null]);

          assert.equal(await deliverOk(app, cancelled), "ok", "Stripe's next attempt");
          const after = await reload(sql, user);
          assert.equal(after.tier, "free");
          assert.equal(after.stripeSubscriptionId, null);
        });

        const health = await app.fetch("/healthz");
        assert.equal(health.status, 200, "the pool replaced the killed connections");
        await health.body?.cancel();
      } finally {
        await close();
      }
    },
  });

  Deno.test({
    ...route.only(
      `while the webhook waits on Stripe it holds no transaction and no lock${route.how}`,
    ),
    async fn() {
      // Two updates stamped with the same second make the webhook ask Stripe before applying.
      const stripeApi = startStuckServer();
      const stripe = createStripeClient({
        apiKey: "sk_test_held",
        apiBase: stripeApi.url,
        maxNetworkRetries: 0,
      });
      const { app, close } = await appOn(route, {
        env: { STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET },
        stripe,
      });
      try {
        const url = `${await app.listen()}/api/stripe/webhook`;
        const sql = app.db.sql;
        const user = await createUser(sql);
        const customer = user.stripeCustomerId!;
        const second = { created: 1_800_000_000 };
        const created = stripeEvent(
          "customer.subscription.created",
          subscriptionObject("sub_asking", customer, "trialing"),
          second,
        );
        assert.equal(await deliverOk(app, created), "ok");
        const updated = stripeEvent(
          "customer.subscription.updated",
          subscriptionObject("sub_asking", customer, "active"),
          second,
        );

        const answer = post(url, updated);
        await stripeApi.received(1);
        const open = await sql`
          select pid from pg_stat_activity
          where datname = current_database() and state like 'idle in transaction%'`;
        assert.equal(open.length, 0, "no transaction waits on Stripe");
        const locked = await sql.begin((tx) =>
          tx`select id from users where id = ${user.id} for update nowait`
        );
        assert.equal(locked.length, 1, "the person's row is free while Stripe thinks");

        await stripeApi.answer(subscriptionObject("sub_asking", customer, "active"));
        const applied = await answer;
        assert.equal(applied.status, 200);
        assert.deepEqual(await applied.json(), { status: "ok" });
        assert.equal((await reload(sql, user)).stripeSubscriptionStatus, "active");
      } finally {
        stripeApi.close();
        await close();
      }
    },
  });
}
