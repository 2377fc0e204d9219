import assert from "node:assert/strict";
import type Stripe from "stripe";
import { periodEnd } from "../../lib/stripe_simulator/periods.ts";
import {
  deliveredInOrder,
  eventsOfType,
  startSimulatorWithReceiver,
  subscribe,
} from "../helpers/stripe.ts";

const START = new Date("2026-01-31T10:00:00Z");
const unix = (iso: string) => Date.parse(iso) / 1000;

const deliveredBy = deliveredInOrder;
const ofType = eventsOfType;

Deno.test("monthly periods follow the calendar from their anchor", () => {
  const anchor = unix("2026-01-31T10:00:00Z");
  const feb = periodEnd(anchor, anchor, "month");
  assert.equal(feb, unix("2026-02-28T10:00:00Z"));
  assert.equal(periodEnd(feb, anchor, "month"), unix("2026-03-31T10:00:00Z"));
  assert.equal(periodEnd(anchor, anchor, "year"), unix("2027-01-31T10:00:00Z"));
  const leap = unix("2028-02-29T00:00:00Z");
  assert.equal(periodEnd(leap, leap, "year"), unix("2029-02-28T00:00:00Z"));
});

Deno.test("renewals, a declined payment and a refund", async (t) => {
  const context = await startSimulatorWithReceiver({ now: () => START });
  const { sim, stripe, close } = context;
  try {
    const { subscription } = await subscribe(stripe, { price: sim.prices.monthly });
    await sim.settled();

    await t.step("a renewal moves the period and pays £7 as subscription_cycle", async () => {
      const events = await deliveredBy(context, () => sim.advanceSubscription(subscription.id));
      assert.deepEqual(events.map((event) => event.type).sort(), [
        "customer.subscription.updated",
        "invoice.paid",
        "invoice.upcoming",
      ]);
      const [updated] = ofType<Stripe.CustomerSubscriptionUpdatedEvent>(
        events,
        "customer.subscription.updated",
      );
      const item = updated.data.object.items.data[0];
      assert.equal(item.current_period_start, unix("2026-02-28T10:00:00Z"));
      assert.equal(item.current_period_end, unix("2026-03-31T10:00:00Z"));
      const previousItems = updated.data.previous_attributes?.items as Stripe.ApiList<
        Stripe.SubscriptionItem
      >;
      assert.equal(previousItems.data[0].current_period_start, unix("2026-01-31T10:00:00Z"));
      const [paid] = ofType<Stripe.InvoicePaidEvent>(events, "invoice.paid");
      const invoice = paid.data.object;
      assert.equal(invoice.billing_reason, "subscription_cycle");
      assert.equal(invoice.amount_paid, 700);
      assert.equal(invoice.parent?.subscription_details?.subscription, subscription.id);
      assert.equal(invoice.period_start, unix("2026-01-31T10:00:00Z"), "the period just ended");
      assert.equal(invoice.period_end, unix("2026-02-28T10:00:00Z"));
      assert.deepEqual(invoice.lines.data[0].period, {
        start: unix("2026-02-28T10:00:00Z"),
        end: unix("2026-03-31T10:00:00Z"),
      });
      assert.equal(paid.created, unix("2026-02-28T10:00:00Z"));
      assert.equal(sim.now().toISOString(), "2026-02-28T10:00:00.000Z");
    });

    await t.step("a declined renewal: invoice.payment_failed, then past_due", async () => {
      sim.failNextPayment(subscription.id);
      const events = await deliveredBy(context, () => sim.advanceSubscription(subscription.id));
      const [failed] = ofType<Stripe.InvoicePaymentFailedEvent>(events, "invoice.payment_failed");
      assert.equal(failed.data.object.status, "open");
      assert.equal(failed.data.object.amount_paid, 0);
      assert.equal(failed.data.object.amount_due, 700);
      assert.equal(failed.data.object.attempt_count, 1);
      assert.equal(failed.data.object.billing_reason, "subscription_cycle");
      assert.equal(ofType(events, "invoice.paid").length, 0);
      const statuses = ofType<Stripe.CustomerSubscriptionUpdatedEvent>(
        events,
        "customer.subscription.updated",
      ).filter((event) => event.data.previous_attributes?.status);
      assert.equal(statuses.length, 1);
      assert.equal(statuses[0].data.object.status, "past_due");
      assert.equal(statuses[0].data.previous_attributes?.status, "active");
      assert.equal((await stripe.subscriptions.retrieve(subscription.id)).status, "past_due");
    });

    await t.step("the retry three days later pays and makes it active again", async () => {
      const events = await deliveredBy(
        context,
        () => sim.advanceClock(new Date("2026-04-03T10:00:00Z")),
      );
      assert.deepEqual(events.map((event) => event.type).sort(), [
        "customer.subscription.updated",
        "invoice.paid",
      ]);
      const [paid] = ofType<Stripe.InvoicePaidEvent>(events, "invoice.paid");
      assert.equal(paid.data.object.attempt_count, 2);
      assert.equal(paid.data.object.billing_reason, "subscription_cycle");
      assert.equal(paid.created, unix("2026-04-03T10:00:00Z"));
      assert.equal((await stripe.subscriptions.retrieve(subscription.id)).status, "active");
    });

    await t.step("a refund of the last charge: charge.refunded", async () => {
      const events = await deliveredBy(context, () => sim.refundLastCharge(subscription.id));
      const [refunded] = ofType<Stripe.ChargeRefundedEvent>(events, "charge.refunded");
      assert.deepEqual(events.map((event) => event.type), ["charge.refunded", "refund.created"]);
      const charge = refunded.data.object;
      assert.match(charge.id, /^ch_\w+$/);
      assert.equal(charge.amount, 700);
      assert.equal(charge.amount_refunded, 700);
      assert.equal(charge.refunded, true);
      assert.equal(charge.customer, subscription.customer);
      assert.deepEqual(refunded.data.previous_attributes, { amount_refunded: 0, refunded: false });
    });

    await t.step("advancing to a date applies every renewal on the way, in order", async () => {
      const events = await deliveredBy(
        context,
        () => sim.advanceSubscription(subscription.id, { to: new Date("2026-07-15T00:00:00Z") }),
      );
      const paid = ofType<Stripe.InvoicePaidEvent>(events, "invoice.paid")
        .map((event) => event.data.object.period_end).sort();
      assert.deepEqual(paid, [
        unix("2026-04-30T10:00:00Z"),
        unix("2026-05-31T10:00:00Z"),
        unix("2026-06-30T10:00:00Z"),
      ]);
      assert.equal(sim.now().toISOString(), "2026-07-15T00:00:00.000Z");
      assert.throws(
        () => sim.advanceSubscription(subscription.id, { to: new Date("2026-07-01") }),
        /cannot go back/,
      );
    });
  } finally {
    await close();
  }
});

Deno.test("subscription updates and cancellation through the API", async (t) => {
  const context = await startSimulatorWithReceiver({ now: () => START });
  const { sim, stripe, close } = context;
  try {
    const { subscription } = await subscribe(stripe, {
      price: sim.prices.annual,
      trialDays: 14,
    });
    await sim.settled();

    await t.step("moving trial_end lengthens the trial", async () => {
      const trialEnd = subscription.trial_end! + 7 * 24 * 3600;
      const events = await deliveredBy(
        context,
        () => stripe.subscriptions.update(subscription.id, { trial_end: trialEnd }),
      );
      const [updated] = ofType<Stripe.CustomerSubscriptionUpdatedEvent>(
        events,
        "customer.subscription.updated",
      );
      assert.equal(updated.data.object.trial_end, trialEnd);
      assert.equal(updated.data.object.items.data[0].current_period_end, trialEnd);
      assert.equal(updated.data.previous_attributes?.trial_end, subscription.trial_end);
      assert.equal(updated.request?.id !== null, true, "caused by an API request");
    });

    await t.step("bad trial_end values are refused and change nothing", async () => {
      await assert.rejects(
        stripe.subscriptions.update(subscription.id, { trial_end: unix("2020-01-01") }),
        /must be an integer Unix timestamp in the future/,
      );
      await assert.rejects(
        stripe.subscriptions.update(subscription.id, { trial_end: "tomorrow" as never }),
        (error: Stripe.errors.StripeError) => error.param === "trial_end",
      );
    });

    await t.step("trial_end=now ends the trial and bills as subscription_update", async () => {
      const events = await deliveredBy(
        context,
        () => stripe.subscriptions.update(subscription.id, { trial_end: "now" }),
      );
      const [paid] = ofType<Stripe.InvoicePaidEvent>(events, "invoice.paid");
      assert.equal(paid.data.object.billing_reason, "subscription_update");
      assert.equal(paid.data.object.amount_paid, 7000);
      const current = await stripe.subscriptions.retrieve(subscription.id);
      assert.equal(current.status, "active");
      assert.equal(current.trial_end, START.getTime() / 1000);
      assert.equal(current.items.data[0].current_period_end, unix("2027-01-31T10:00:00Z"));
    });

    await t.step("cancel_at_period_end and back", async () => {
      const events = await deliveredBy(
        context,
        () => stripe.subscriptions.update(subscription.id, { cancel_at_period_end: true }),
      );
      const [updated] = ofType<Stripe.CustomerSubscriptionUpdatedEvent>(
        events,
        "customer.subscription.updated",
      );
      assert.equal(updated.data.object.cancel_at_period_end, true);
      assert.equal(updated.data.object.cancel_at, unix("2027-01-31T10:00:00Z"));
      assert.equal(updated.data.previous_attributes?.cancel_at_period_end, false);
      const undone = await deliveredBy(
        context,
        () => stripe.subscriptions.update(subscription.id, { cancel_at_period_end: false }),
      );
      const [renewed] = ofType<Stripe.CustomerSubscriptionUpdatedEvent>(
        undone,
        "customer.subscription.updated",
      );
      assert.equal(renewed.data.object.cancel_at, null);
      assert.equal(renewed.data.previous_attributes?.cancel_at_period_end, true);
      const unchanged = await deliveredBy(
        context,
        () => stripe.subscriptions.update(subscription.id, { cancel_at_period_end: false }),
      );
      assert.equal(unchanged.length, 0, "no event when nothing changed");
    });

    await t.step("DELETE cancels at once: customer.subscription.deleted", async () => {
      const events = await deliveredBy(
        context,
        () =>
          stripe.subscriptions.cancel(subscription.id, {
            cancellation_details: { feedback: "too_expensive" },
          }),
      );
      const [deleted] = ofType<Stripe.CustomerSubscriptionDeletedEvent>(
        events,
        "customer.subscription.deleted",
      );
      assert.equal(deleted.data.object.status, "canceled");
      assert.equal(deleted.data.object.ended_at, START.getTime() / 1000);
      assert.equal(deleted.data.object.cancellation_details?.feedback, "too_expensive");
      assert.equal(deleted.data.object.cancellation_details?.reason, "cancellation_requested");
      await assert.rejects(
        stripe.subscriptions.update(subscription.id, { cancel_at_period_end: true }),
        /A canceled subscription can only update its cancellation_details and metadata/,
      );
      assert.throws(() => sim.advanceSubscription(subscription.id), /is canceled/);
      assert.throws(() => sim.failNextPayment(subscription.id), /is canceled/);
    });
  } finally {
    await close();
  }
});

Deno.test("a subscription set to cancel at period end is deleted then, without a charge", async () => {
  const context = await startSimulatorWithReceiver({ now: () => START });
  const { sim, stripe, close } = context;
  try {
    const { subscription } = await subscribe(stripe, { price: sim.prices.monthly });
    await stripe.subscriptions.update(subscription.id, { cancel_at_period_end: true });
    await sim.settled();
    const events = await deliveredBy(context, () => sim.advanceSubscription(subscription.id));
    assert.deepEqual(events.map((event) => event.type), ["customer.subscription.deleted"]);
    const deleted = (events[0] as Stripe.CustomerSubscriptionDeletedEvent).data.object;
    assert.equal(deleted.status, "canceled");
    assert.equal(deleted.ended_at, unix("2026-02-28T10:00:00Z"));
  } finally {
    await close();
  }
});

Deno.test("a trial set to cancel ends without charging; a declined conversion is past_due", async () => {
  const context = await startSimulatorWithReceiver({ now: () => START });
  const { sim, stripe, close } = context;
  try {
    const cancelled = await subscribe(stripe, { price: sim.prices.annual, trialDays: 14 });
    await stripe.subscriptions.update(cancelled.subscription.id, { cancel_at_period_end: true });
    sim.advanceClock(new Date("2026-02-01T10:00:00Z"));
    const declined = await subscribe(stripe, { price: sim.prices.annual, trialDays: 14 });
    sim.failNextPayment(declined.subscription.id);
    await sim.settled();

    const ended = await deliveredBy(
      context,
      () => sim.advanceSubscription(cancelled.subscription.id),
    );
    // The clock is shared: the second trial's warning (three days before 15 February) comes on
    // the way to the first trial's end on 14 February.
    assert.deepEqual(
      ended.map((event) => [event.type, (event.data.object as Stripe.Subscription).id]),
      [
        ["customer.subscription.trial_will_end", cancelled.subscription.id],
        ["customer.subscription.trial_will_end", declined.subscription.id],
        ["customer.subscription.deleted", cancelled.subscription.id],
      ],
    );

    const failed = await deliveredBy(
      context,
      () => sim.advanceSubscription(declined.subscription.id),
    );
    const [payment] = ofType<Stripe.InvoicePaymentFailedEvent>(failed, "invoice.payment_failed");
    assert.equal(payment.data.object.amount_due, 7000);
    assert.equal(
      (await stripe.subscriptions.retrieve(declined.subscription.id)).status,
      "past_due",
    );
    assert.throws(() => sim.refundLastCharge(declined.subscription.id), /no charge left/);
  } finally {
    await close();
  }
});
