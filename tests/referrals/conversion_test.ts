import assert from "node:assert/strict";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { createTestDatabase } from "../helpers/db.ts";
import { DAY, testClock } from "../helpers/clock.ts";
import {
  deliverOk,
  invoiceObject,
  stripeEvent,
  subscriptionObject,
  WEBHOOK_SECRET,
} from "../helpers/stripe_events.ts";
import { createUser, reload } from "../helpers/users.ts";
import { assertLedgerExplainsCredit } from "../helpers/ledger.ts";
import { withTransaction } from "../../lib/db/client.ts";
import { connect } from "../../lib/db/client.ts";
import { convertReferral } from "../../lib/referrals/conversion.ts";
import { creditDaysLeft, grantCredit } from "../../lib/referrals/credits.ts";
import { hasPaidAccess } from "../../lib/billing/entitlement.ts";
import { referralStats } from "../../lib/referrals/stats.ts";
import { NO_PAYMENT_FACTS } from "../../lib/referrals/rewards.ts";

/** A payment the tests know nothing of (no charge, no card), for a referrer under the yearly cap. */
const UNKNOWN_PAYMENT = { payment: NO_PAYMENT_FACTS, rewardsPerYear: 12 };

const GRACE_DAYS = 14;
const NOW = new Date("2026-06-01T10:00:00Z");
const plus = (days: number, from = NOW) => new Date(from.getTime() + days * DAY);

async function withApp(fn: (app: TestApp, clock: ReturnType<typeof testClock>) => Promise<void>) {
  const clock = testClock(NOW);
  const app = await createTestApp({
    env: { STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET },
    now: clock.now,
  });
  try {
    await fn(app, clock);
    await assertLedgerExplainsCredit(app.db.sql);
  } finally {
    await app.close();
  }
}

const firstCharge = (customer: string) =>
  stripeEvent("invoice.paid", invoiceObject(customer, 700, "subscription_create"));

Deno.test("happy path: the first real payment gives both sides 45 days", () =>
  withApp(async (app) => {
    const referrer = await createUser(app.db.sql);
    const buyer = await createUser(app.db.sql, { referredBy: referrer });
    const event = firstCharge(buyer.stripeCustomerId!);
    assert.equal(await deliverOk(app, event), "ok");

    assert.deepEqual((await reload(app.db.sql, buyer)).creditUntil, plus(45));
    assert.deepEqual((await reload(app.db.sql, referrer)).creditUntil, plus(45));
    const [referral] = await app.db.sql`select converted_at, credited_at from referrals`;
    assert.deepEqual([referral.convertedAt, referral.creditedAt], [NOW, NOW]);
    const grants = await app.db
      .sql`select user_id, days, reason, stripe_event_id from credit_grants order by id`;
    assert.deepEqual(grants.map((g) => [g.userId, g.days, g.reason, g.stripeEventId]), [
      [buyer.id, 45, "referral_buyer", event.id],
      [referrer.id, 45, "referral_referrer", event.id],
    ]);
    assert.equal(app.logs.records("referral.converted").length, 1);
  }));

Deno.test("replays, duplicates and renewals never credit again", () =>
  withApp(async (app, clock) => {
    const referrer = await createUser(app.db.sql);
    const buyer = await createUser(app.db.sql, { referredBy: referrer });
    const event = firstCharge(buyer.stripeCustomerId!);
    await deliverOk(app, event);
    assert.equal(await deliverOk(app, event), "duplicate");
    clock.advance(30 * DAY);
    assert.equal(
      await deliverOk(
        app,
        stripeEvent(
          "invoice.paid",
          invoiceObject(buyer.stripeCustomerId!, 700, "subscription_cycle"),
        ),
      ),
      "ok",
    );
    // Converting directly again is a no-op too.
    const again = await withTransaction(
      app.db.sql,
      (tx) => convertReferral(tx, buyer, { ...UNKNOWN_PAYMENT, eventId: null, now: clock.now() }),
    );
    assert.equal(again, null);
    const [{ count }] = await app.db.sql`select count(*)::int from credit_grants`;
    assert.equal(count, 2);
    assert.deepEqual((await reload(app.db.sql, buyer)).creditUntil, plus(45));
  }));

Deno.test("no referral: a payment changes no credit", () =>
  withApp(async (app) => {
    const buyer = await createUser(app.db.sql);
    assert.equal(await deliverOk(app, firstCharge(buyer.stripeCustomerId!)), "ok");
    assert.equal((await reload(app.db.sql, buyer)).creditUntil, null);
    const [{ count }] = await app.db.sql`select count(*)::int from credit_grants`;
    assert.equal(count, 0);
  }));

Deno.test("credits stack on a running window, and start from now after one has lapsed", () =>
  withApp(async (app) => {
    const referrer = await createUser(app.db.sql);
    await app.db.sql`update users set credit_until = ${plus(10)} where id = ${referrer.id}`;
    await app.db.sql`
      insert into credit_grants (user_id, days, reason, granted_at, starts_at, ends_at)
      values (${referrer.id}, 10, 'admin_grant', ${NOW}, ${NOW}, ${plus(10)})`;
    const lapsed = await createUser(app.db.sql, { referredBy: referrer });
    await app.db.sql`update users set credit_until = ${plus(-5)} where id = ${lapsed.id}`;
    await app.db.sql`
      insert into credit_grants (user_id, days, reason, granted_at, starts_at, ends_at)
      values (${lapsed.id}, 1, 'admin_grant', ${plus(-6)}, ${plus(-6)}, ${plus(-5)})`;

    await deliverOk(app, firstCharge(lapsed.stripeCustomerId!));
    assert.deepEqual((await reload(app.db.sql, referrer)).creditUntil, plus(55), "10 left + 45");
    assert.deepEqual((await reload(app.db.sql, lapsed)).creditUntil, plus(45), "lapsed: from now");

    const second = await createUser(app.db.sql, { referredBy: referrer });
    await deliverOk(app, firstCharge(second.stripeCustomerId!));
    assert.deepEqual(
      (await reload(app.db.sql, referrer)).creditUntil,
      plus(100),
      "two referrals stack",
    );
  }));

Deno.test("a referrer who deleted their account does not stop the buyer's credit", () =>
  withApp(async (app) => {
    const referrer = await createUser(app.db.sql);
    const buyer = await createUser(app.db.sql, { referredBy: referrer });
    await app.db.sql`delete from users where id = ${referrer.id}`;
    const [referral] = await app.db.sql`select referrer_id from referrals`;
    assert.equal(referral.referrerId, null);
    assert.equal(await deliverOk(app, firstCharge(buyer.stripeCustomerId!)), "ok");
    assert.deepEqual((await reload(app.db.sql, buyer)).creditUntil, plus(45));
    const grants = await app.db.sql`select reason from credit_grants`;
    assert.deepEqual(grants.map((g) => g.reason), ["referral_buyer"]);
  }));

Deno.test("annual: the £0 trial invoice does not convert; the first real charge does", () =>
  withApp(async (app, clock) => {
    const referrer = await createUser(app.db.sql);
    const buyer = await createUser(app.db.sql, { referredBy: referrer });
    const customer = buyer.stripeCustomerId!;
    const trialEnd = Math.floor(plus(14).getTime() / 1000);
    await deliverOk(
      app,
      stripeEvent(
        "customer.subscription.created",
        subscriptionObject("sub_annual", customer, "trialing", { trial_end: trialEnd }),
      ),
    );
    await deliverOk(
      app,
      stripeEvent("invoice.paid", invoiceObject(customer, 0, "subscription_create", "sub_annual")),
    );
    assert.equal(
      (await reload(app.db.sql, buyer)).creditUntil,
      null,
      "a £0 trial invoice is not money",
    );
    assert.equal(
      (await reload(app.db.sql, buyer)).tier,
      "paid",
      "but the trial itself grants access",
    );

    clock.advance(14 * DAY);
    await deliverOk(
      app,
      stripeEvent(
        "invoice.paid",
        invoiceObject(customer, 7000, "subscription_cycle", "sub_annual"),
      ),
    );
    assert.deepEqual((await reload(app.db.sql, buyer)).creditUntil, plus(59));
    assert.deepEqual((await reload(app.db.sql, referrer)).creditUntil, plus(59));
  }));

Deno.test("an end-to-end signed webhook sequence lands the credit", () =>
  withApp(async (app) => {
    const referrer = await createUser(app.db.sql);
    const buyer = await createUser(app.db.sql, { referredBy: referrer });
    const customer = buyer.stripeCustomerId!;
    // Stripe's usual order for a monthly purchase, with invoice.paid before checkout completes.
    for (
      const event of [
        stripeEvent(
          "customer.subscription.created",
          subscriptionObject("sub_m", customer, "active"),
        ),
        stripeEvent("invoice.paid", invoiceObject(customer, 700, "subscription_create", "sub_m")),
        stripeEvent("checkout.session.completed", {
          id: "cs_1",
          object: "checkout.session",
          client_reference_id: String(buyer.id),
          customer,
          subscription: "sub_m",
        }),
      ]
    ) assert.equal(await deliverOk(app, event), "ok");
    const row = await reload(app.db.sql, buyer);
    assert.equal(row.tier, "paid");
    assert.deepEqual(row.creditUntil, plus(45));
    assert.ok(
      hasPaidAccess(await reload(app.db.sql, referrer), NOW, GRACE_DAYS),
      "the referrer has access by credit",
    );
  }));

Deno.test("parallel conversions of one person credit once (two transactions at once)", async () => {
  const db = await createTestDatabase();
  const pools = Array.from({ length: 8 }, () => connect(db.url, { max: 1 }));
  try {
    const referrer = await createUser(db.sql);
    const buyer = await createUser(db.sql, { referredBy: referrer });
    const results = await Promise.all(
      Array.from(
        { length: 8 },
        (_, i) =>
          withTransaction(
            pools[i % pools.length],
            (tx) =>
              convertReferral(tx, buyer, { ...UNKNOWN_PAYMENT, eventId: `evt_${i}`, now: NOW }),
          ),
      ),
    );
    assert.equal(results.filter((r) => r !== null).length, 1);
    const [{ count }] = await db.sql`select count(*)::int from credit_grants`;
    assert.equal(count, 2);
    assert.deepEqual((await reload(db.sql, referrer)).creditUntil, plus(45));
    await assertLedgerExplainsCredit(db.sql);
  } finally {
    await Promise.all(pools.map((pool) => pool.end()));
    await db.close();
  }
});

Deno.test("grants that waited for the row lock are explained in the order they were written", async () => {
  const db = await createTestDatabase();
  try {
    const referrer = await createUser(db.sql);
    // Two conversions crediting one referrer read the clock, then queue on the row lock: the one
    // that read it later can be written first.
    const grant = { userId: referrer.id, days: 45, reason: "admin_grant" as const };
    const later = new Date(NOW.getTime() + 5);
    await withTransaction(db.sql, (tx) => grantCredit(tx, grant, later));
    await withTransaction(db.sql, (tx) => grantCredit(tx, grant, NOW));
    assert.deepEqual((await reload(db.sql, referrer)).creditUntil, plus(90, later));
    await assertLedgerExplainsCredit(db.sql);
  } finally {
    await db.close();
  }
});

Deno.test("the ledger refuses a second credit for the same side of a referral", async () => {
  const db = await createTestDatabase();
  try {
    const referrer = await createUser(db.sql);
    const buyer = await createUser(db.sql, { referredBy: referrer });
    const [referral] = await db.sql`select id from referrals`;
    const grant = {
      userId: buyer.id,
      days: 45,
      reason: "referral_buyer" as const,
      referralId: referral.id,
    };
    await withTransaction(db.sql, (tx) => grantCredit(tx, grant, NOW));
    await assert.rejects(
      withTransaction(db.sql, (tx) => grantCredit(tx, grant, NOW)),
      /duplicate key/,
    );
    await assert.rejects(
      withTransaction(db.sql, (tx) => grantCredit(tx, { ...grant, days: 0 }, NOW)),
      /positive whole number of days/,
    );
  } finally {
    await db.close();
  }
});

Deno.test("entitlement and the settings numbers", async () => {
  const db = await createTestDatabase();
  try {
    const person = (tier: "paid" | "free", creditUntil: Date | null) => ({
      tier,
      creditUntil,
      stripeSubscriptionStatus: tier === "paid" ? "active" : null,
      stripePastDueSince: null,
    });
    assert.equal(hasPaidAccess(person("paid", null), NOW, GRACE_DAYS), true);
    assert.equal(hasPaidAccess(person("free", plus(1)), NOW, GRACE_DAYS), true);
    assert.equal(hasPaidAccess(person("free", NOW), NOW, GRACE_DAYS), false);
    assert.equal(hasPaidAccess(person("free", null), NOW, GRACE_DAYS), false);
    assert.equal(creditDaysLeft({ creditUntil: null }, NOW), 0);
    assert.equal(creditDaysLeft({ creditUntil: plus(-1) }, NOW), 0);
    assert.equal(
      creditDaysLeft({ creditUntil: new Date(NOW.getTime() + 1000) }, NOW),
      1,
      "rounded up",
    );
    assert.equal(creditDaysLeft({ creditUntil: plus(45) }, NOW), 45);
    assert.equal(creditDaysLeft({ creditUntil: new Date(plus(44).getTime() + 1) }, NOW), 45);

    const referrer = await createUser(db.sql);
    const recent = await createUser(db.sql, { referredBy: referrer });
    const old = await createUser(db.sql, { referredBy: referrer });
    await createUser(db.sql, { referredBy: referrer }); // joined, never paid
    await withTransaction(
      db.sql,
      (tx) => convertReferral(tx, old, { ...UNKNOWN_PAYMENT, eventId: null, now: plus(-46) }),
    );
    await withTransaction(
      db.sql,
      (tx) => convertReferral(tx, recent, { ...UNKNOWN_PAYMENT, eventId: null, now: plus(-2) }),
    );
    assert.deepEqual(await referralStats(db.sql, referrer.id, NOW), {
      joined: 3,
      converted: 2,
      activeCredits: 1,
    });
    assert.deepEqual(await referralStats(db.sql, recent.id, NOW), {
      joined: 0,
      converted: 0,
      activeCredits: 0,
    });
  } finally {
    await db.close();
  }
});
