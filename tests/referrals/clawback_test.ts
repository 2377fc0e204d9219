/**
 * Referral rewards taken back when the payment that earned them is: a full refund or a dispute
 * reverses both sides' grants in the ledger and puts subscribers' next payments back; a won
 * dispute gives them back; a partial refund keeps them. Each once, under duplicate, parallel
 * and out-of-order delivery — through the app and the Stripe simulator.
 */
import assert from "node:assert/strict";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { assertLedgerExplainsCredit } from "../helpers/ledger.ts";
import {
  chargeDate,
  DAY,
  invitedReader,
  MASTERCARD,
  nextCharge,
  person,
  type Reader,
  reader,
  settings,
  settle,
  subscribe,
  text,
} from "../helpers/subscribers.ts";
import { formatDate } from "../../lib/format.ts";

/**
 * A monthly subscriber whose friend subscribes monthly through their link: both credited, both
 * next payments moved. Returns the dates each would have been charged without the credit.
 */
async function convertedReferral(app: TestApp, prefix: string) {
  const referrer = await reader(app, `${prefix}-referrer@example.com`);
  const referrerSubscription = await subscribe(app, referrer, "monthly");
  const friend = await invitedReader(app, referrer, `${prefix}-friend@example.com`);
  const friendSubscription = await subscribe(app, friend, "monthly", "Pay", MASTERCARD);
  const [referral] = await app.db.sql`
    select id, converting_charge_id, reward_status from referrals
    where referred_user_id = ${(await person(app, friend)).id}`;
  assert.equal(referral.rewardStatus, "credited");
  assert.ok(referral.convertingChargeId, "the converting charge is known");
  const referrerNatural = new Date(chargeDate(referrerSubscription).getTime());
  const friendMoved = await nextCharge(app, friendSubscription.id);
  assert.deepEqual(
    await nextCharge(app, referrerSubscription.id),
    new Date(referrerNatural.getTime() + 45 * DAY),
  );
  return {
    referrer,
    friend,
    referralId: referral.id as number,
    chargeId: referral.convertingChargeId as string,
    referrerSubscription: referrerSubscription.id,
    friendSubscription: friendSubscription.id,
    referrerNatural,
    friendNatural: new Date(friendMoved.getTime() - 45 * DAY),
  };
}

async function rewardOf(app: TestApp, referralId: number) {
  const [row] = await app.db.sql`
    select reward_status, reversal_cause from referrals where id = ${referralId}`;
  return [row.rewardStatus, row.reversalCause];
}

/** The referral's ledger rows by kind: grants, reversals, restorations. */
async function ledgerOf(app: TestApp, referralId: number) {
  const [row] = await app.db.sql`
    select count(*) filter (where days > 0 and restores_grant_id is null)::int as grants,
           count(*) filter (where days < 0)::int as reversals,
           count(*) filter (where restores_grant_id is not null)::int as restorations
    from credit_grants where referral_id = ${referralId}`;
  return [row.grants, row.reversals, row.restorations];
}

async function creditEnds(app: TestApp, who: Reader): Promise<Date | null> {
  return (await person(app, who)).creditUntil;
}

/** Deliver an event again, five times at once and once more after. */
async function deliverAgain(app: TestApp, type: string) {
  const [{ eventId }] = await app.db.sql`
    select event_id from stripe_events where event_type = ${type}
    order by received_at desc limit 1`;
  await Promise.all([1, 2, 3, 4, 5].map(() => app.sim!.redeliver(eventId)));
  await app.sim!.redeliver(eventId);
  await settle(app);
}

Deno.test("a full refund takes back both sides' days and puts the next payments back", async () => {
  const app = await createTestApp({ payments: "simulator" });
  try {
    const r = await convertedReferral(app, "refund");
    app.sim!.refundLastCharge(r.friendSubscription);
    await settle(app);

    assert.deepEqual(await rewardOf(app, r.referralId), ["reversed", "refunded"]);
    assert.deepEqual(await ledgerOf(app, r.referralId), [2, 2, 0]);
    const now = app.services.now();
    assert.ok((await creditEnds(app, r.referrer))! <= now, "no credit left");
    assert.ok((await creditEnds(app, r.friend))! <= now);
    assert.deepEqual(await nextCharge(app, r.referrerSubscription), r.referrerNatural);
    assert.deepEqual(await nextCharge(app, r.friendSubscription), r.friendNatural);
    const page = text(await settings(app, r.referrer));
    assert.match(page, new RegExp(`Renews on ${formatDate(r.referrerNatural)} for £7\\.00`));
    assert.doesNotMatch(page, /Free trial/);
    assert.match(page, /A friend you invited subscribed Taken back: the payment was refunded/);
    assert.match(page, /Active credits 0 Friends joined 1 Friends subscribed 1/);

    await deliverAgain(app, "charge.refunded");
    assert.deepEqual(await ledgerOf(app, r.referralId), [2, 2, 0], "taken back once");
    assert.deepEqual(await nextCharge(app, r.referrerSubscription), r.referrerNatural);
    await assertLedgerExplainsCredit(app.db.sql);
  } finally {
    await app.close();
  }
});

Deno.test("a dispute takes the days back; won, it gives them back; delivered again, nothing more", async () => {
  const app = await createTestApp({ payments: "simulator" });
  try {
    const r = await convertedReferral(app, "dispute");
    const dispute = app.sim!.disputeCharge(r.chargeId);
    await settle(app);
    assert.deepEqual(await rewardOf(app, r.referralId), ["reversed", "disputed"]);
    assert.deepEqual(await nextCharge(app, r.referrerSubscription), r.referrerNatural);
    assert.match(text(await settings(app, r.friend)), /Taken back: the payment is disputed/);

    app.sim!.closeDispute(dispute.id, "won");
    await settle(app);
    assert.deepEqual(await rewardOf(app, r.referralId), ["credited", null]);
    assert.deepEqual(await ledgerOf(app, r.referralId), [2, 2, 2]);
    assert.deepEqual(
      await nextCharge(app, r.referrerSubscription),
      new Date(r.referrerNatural.getTime() + 45 * DAY),
      "the next payment moves again",
    );
    assert.match(text(await settings(app, r.referrer)), /Given back: the dispute was won/);

    await deliverAgain(app, "charge.dispute.created");
    await deliverAgain(app, "charge.dispute.closed");
    assert.deepEqual(await rewardOf(app, r.referralId), ["credited", null]);
    assert.deepEqual(await ledgerOf(app, r.referralId), [2, 2, 2]);
    assert.deepEqual(
      await nextCharge(app, r.referrerSubscription),
      new Date(r.referrerNatural.getTime() + 45 * DAY),
    );
    await assertLedgerExplainsCredit(app.db.sql);
  } finally {
    await app.close();
  }
});

for (const outcome of ["won", "lost"] as const) {
  Deno.test(`a dispute ${outcome}, its events arriving closed first: the reward ends as it should`, async () => {
    const app = await createTestApp({ payments: "simulator" });
    try {
      const r = await convertedReferral(app, `late-${outcome}`);
      app.sim!.holdDeliveries();
      const dispute = app.sim!.disputeCharge(r.chargeId);
      app.sim!.closeDispute(dispute.id, outcome);
      const held = app.sim!.heldEvents().map((event) => event.id);
      await app.sim!.deliverHeld([...held].reverse());
      app.sim!.resumeDeliveries();
      await settle(app);
      assert.deepEqual(
        await rewardOf(app, r.referralId),
        outcome === "won" ? ["credited", null] : ["reversed", "disputed"],
      );
      assert.deepEqual(
        await ledgerOf(app, r.referralId),
        outcome === "won" ? [2, 0, 0] : [2, 2, 0],
      );
      assert.deepEqual(
        await nextCharge(app, r.referrerSubscription),
        outcome === "won" ? new Date(r.referrerNatural.getTime() + 45 * DAY) : r.referrerNatural,
      );
      await assertLedgerExplainsCredit(app.db.sql);
    } finally {
      await app.close();
    }
  });
}

Deno.test("a partial refund keeps the reward", async () => {
  const app = await createTestApp({ payments: "simulator" });
  try {
    const r = await convertedReferral(app, "partial");
    await app.stripe!.refunds.create({ charge: r.chargeId, amount: 200 });
    await settle(app);
    assert.deepEqual(await rewardOf(app, r.referralId), ["credited", null]);
    assert.deepEqual(await ledgerOf(app, r.referralId), [2, 0, 0]);
    assert.deepEqual(
      await nextCharge(app, r.referrerSubscription),
      new Date(r.referrerNatural.getTime() + 45 * DAY),
    );
    // The rest refunded later: now it is a full refund.
    await app.stripe!.refunds.create({ charge: r.chargeId });
    await settle(app);
    assert.deepEqual(await rewardOf(app, r.referralId), ["reversed", "refunded"]);
    await assertLedgerExplainsCredit(app.db.sql);
  } finally {
    await app.close();
  }
});

Deno.test("a refund after the original date but before the moved one: the payment owed is taken at once", async () => {
  const app = await createTestApp({ payments: "simulator" });
  try {
    const r = await convertedReferral(app, "owed");
    app.sim!.advanceClock(new Date(r.referrerNatural.getTime() + 10 * DAY));
    await settle(app);
    const paid = async () =>
      (await app.stripe!.invoices.list({ subscription: r.referrerSubscription })).data
        .filter((invoice) => invoice.status === "paid" && invoice.amount_paid > 0).length;
    assert.equal(await paid(), 1, "not charged on the original date: it had moved");
    await app.stripe!.refunds.create({ charge: r.chargeId });
    await settle(app);
    assert.equal(await paid(), 2, "the month that was not earned is charged now");
    assert.equal((await person(app, r.referrer)).stripeSubscriptionStatus, "active");
    await assertLedgerExplainsCredit(app.db.sql);
  } finally {
    await app.close();
  }
});

Deno.test("a refund after the moved date has passed takes the credit back but not the days had", async () => {
  const app = await createTestApp({ payments: "simulator" });
  try {
    const r = await convertedReferral(app, "after");
    const movedTo = new Date(r.referrerNatural.getTime() + 45 * DAY);
    // Past the moved date: the referrer was charged then, and the move is spent.
    app.sim!.advanceClock(new Date(movedTo.getTime() + DAY));
    await settle(app);
    const renewal = await nextCharge(app, r.referrerSubscription);
    await app.stripe!.refunds.create({ charge: r.chargeId });
    await settle(app);
    assert.deepEqual(await rewardOf(app, r.referralId), ["reversed", "refunded"]);
    assert.deepEqual(await nextCharge(app, r.referrerSubscription), renewal, "nothing to undo");
    await assertLedgerExplainsCredit(app.db.sql);
  } finally {
    await app.close();
  }
});
