import assert from "node:assert/strict";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { cookieFrom, sessionHeaders, signIn } from "../helpers/auth.ts";
import { pressButton } from "../helpers/stripe.ts";
import { assertLedgerExplainsCredit } from "../helpers/ledger.ts";

async function referredBuyer(app: TestApp, referrerEmail: string, buyerEmail: string) {
  await signIn(app, referrerEmail);
  const [{ referralCode }] = await app.db
    .sql`select referral_code from users where email = ${referrerEmail}`;
  const refCookie = cookieFrom(await app.fetch(`/r/${referralCode}`), "rm_ref")!;
  const { cookie } = await signIn(app, buyerEmail, { cookie: refCookie });
  return cookie;
}

async function buy(app: TestApp, cookie: string, cadence: "monthly" | "annual") {
  const response = await app.fetch("/api/stripe/checkout", {
    method: "POST",
    headers: sessionHeaders(cookie),
    body: JSON.stringify({ cadence, reg36Waiver: cadence === "monthly" }),
  });
  const { url } = await response.json();
  await pressButton(url, "Pay");
  await app.sim!.settled();
}

async function credit(app: TestApp, email: string): Promise<Date | null> {
  const [row] = await app.db.sql`select credit_until from users where email = ${email}`;
  return row.creditUntil;
}

async function subscriptionOf(app: TestApp, email: string): Promise<string> {
  const [row] = await app.db.sql`select stripe_subscription_id from users where email = ${email}`;
  return row.stripeSubscriptionId;
}

Deno.test("monthly through the simulator: both sides credited once, renewals change nothing", async () => {
  const app = await createTestApp({ payments: "simulator" });
  try {
    const cookie = await referredBuyer(app, "ref@example.com", "buyer@example.com");
    await buy(app, cookie, "monthly");
    const buyerCredit = await credit(app, "buyer@example.com");
    const referrerCredit = await credit(app, "ref@example.com");
    assert.ok(buyerCredit && referrerCredit);
    const days = (buyerCredit.getTime() - Date.now()) / 86_400_000;
    assert.ok(days > 44.9 && days <= 45, `${days} days`);

    const subscription = await subscriptionOf(app, "buyer@example.com");
    app.sim!.advanceSubscription(subscription); // a month later: subscription_cycle invoice
    app.sim!.advanceSubscription(subscription);
    await app.sim!.settled();
    assert.deepEqual(await credit(app, "buyer@example.com"), buyerCredit);
    assert.deepEqual(await credit(app, "ref@example.com"), referrerCredit);
    const paid = await app.db
      .sql`select count(*)::int as n from stripe_events where event_type = 'invoice.paid' and processed_at is not null`;
    assert.equal(paid[0].n, 3, "three invoices paid and processed, one credited");
    await assertLedgerExplainsCredit(app.db.sql);
  } finally {
    await app.close();
  }
});

Deno.test("annual through the simulator: the trial invoice does not credit, the first charge does", async () => {
  const app = await createTestApp({ payments: "simulator" });
  try {
    const cookie = await referredBuyer(app, "ref2@example.com", "annual@example.com");
    await buy(app, cookie, "annual");
    const [user] = await app.db
      .sql`select tier, stripe_subscription_status from users where email = 'annual@example.com'`;
    assert.equal(user.tier, "paid");
    assert.equal(user.stripeSubscriptionStatus, "trialing");
    assert.equal(await credit(app, "annual@example.com"), null);
    assert.equal(await credit(app, "ref2@example.com"), null);

    app.sim!.advanceSubscription(await subscriptionOf(app, "annual@example.com"));
    await app.sim!.settled();
    assert.ok(await credit(app, "annual@example.com"));
    assert.ok(await credit(app, "ref2@example.com"));
    const [after] = await app.db
      .sql`select stripe_subscription_status, stripe_trial_end_at from users where email = 'annual@example.com'`;
    assert.equal(after.stripeSubscriptionStatus, "active");
    assert.equal(after.stripeTrialEndAt, null);
    await assertLedgerExplainsCredit(app.db.sql);
  } finally {
    await app.close();
  }
});

Deno.test("duplicates, out-of-order batches, failed payments and refunds through the simulator", async () => {
  const app = await createTestApp({ payments: "simulator" });
  try {
    const cookie = await referredBuyer(app, "ref3@example.com", "messy@example.com");
    app.sim!.holdDeliveries();
    await buy(app, cookie, "monthly");
    const held = app.sim!.heldEvents();
    // Deliver the purchase's events newest first, then every one of them again.
    await app.sim!.deliverHeld(held.map((e) => e.id).reverse());
    app.sim!.resumeDeliveries();
    for (const event of held) await app.sim!.redeliver(event.id);
    await app.sim!.settled();

    const [user] = await app.db
      .sql`select tier, stripe_subscription_status from users where email = 'messy@example.com'`;
    assert.equal(user.tier, "paid");
    assert.equal(user.stripeSubscriptionStatus, "active");
    const [{ grants }] = await app.db.sql`select count(*)::int as grants from credit_grants`;
    assert.equal(grants, 2);
    assert.equal(app.logs.records("stripe.duplicate_delivery").length, held.length);

    const subscription = await subscriptionOf(app, "messy@example.com");
    app.sim!.failNextPayment(subscription);
    app.sim!.advanceSubscription(subscription);
    await app.sim!.settled();
    const [troubled] = await app.db
      .sql`select tier, stripe_subscription_status from users where email = 'messy@example.com'`;
    assert.deepEqual([troubled.tier, troubled.stripeSubscriptionStatus], ["paid", "past_due"]);

    app.sim!.refundLastCharge(subscription);
    await app.sim!.settled();
    const types = await app.db
      .sql`select event_type from stripe_events where processed_at is not null`;
    assert.ok(types.some((t) => t.eventType === "invoice.payment_failed"));
    assert.ok(types.some((t) => t.eventType === "charge.refunded"));
    // The refunded charge is the one that converted the referral: both sides' days go back.
    const ledger = await app.db.sql`
      select sign(days)::int as direction, count(*)::int from credit_grants
      group by 1 order by 1`;
    assert.deepEqual(ledger.map((row) => [row.direction, row.count]), [[-1, 2], [1, 2]]);
    const [referral] = await app.db.sql`select reward_status, reversal_cause from referrals`;
    assert.deepEqual([referral.rewardStatus, referral.reversalCause], ["reversed", "refunded"]);
    await assertLedgerExplainsCredit(app.db.sql);
  } finally {
    await app.close();
  }
});
