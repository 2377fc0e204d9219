import assert from "node:assert/strict";
import type Stripe from "stripe";
import {
  deliveredInOrder,
  eventsOfType,
  startSimulatorWithReceiver,
  subscribe,
} from "../helpers/stripe.ts";

const START = new Date("2026-01-01T00:00:00Z");
const unix = (iso: string) => Date.parse(iso) / 1000;
const DAY = 24 * 3600;

Deno.test("switching monthly to annual: a preview, then the same invoice charged at once", async (t) => {
  const context = await startSimulatorWithReceiver({ now: () => START });
  const { sim, stripe, close } = context;
  try {
    const { subscription } = await subscribe(stripe, { price: sim.prices.monthly });
    const item = subscription.items.data[0];
    // 31 days paid for, 21 of them unused: £7 × 21/31 = £4.74 back.
    sim.advanceClock(new Date("2026-01-11T00:00:00Z"));
    await sim.settled();
    const credit = Math.round(700 * 21 / 31);

    let preview!: Stripe.Invoice;
    await t.step("createPreview: proration lines and the amount, nothing changed", async () => {
      const before = sim.events().length;
      preview = await stripe.invoices.createPreview({
        customer: subscription.customer as string,
        subscription: subscription.id,
        subscription_details: {
          items: [{ id: item.id, price: sim.prices.annual }],
          proration_behavior: "always_invoice",
          proration_date: unix("2026-01-11T00:00:00Z"),
        },
      });
      assert.match(preview.id, /^upcoming_in_\w+$/);
      assert.equal(preview.total, 7000 - credit);
      assert.equal(preview.amount_due, 7000 - credit);
      const [unused, annual] = preview.lines.data;
      assert.equal(unused.amount, -credit);
      assert.equal(unused.parent?.subscription_item_details?.proration, true);
      assert.equal(unused.pricing?.price_details?.price, sim.prices.monthly);
      assert.deepEqual(unused.period, {
        start: unix("2026-01-11T00:00:00Z"),
        end: unix("2026-02-01T00:00:00Z"),
      });
      assert.equal(annual.amount, 7000);
      assert.equal(annual.parent?.subscription_item_details?.proration, false);
      assert.equal(annual.pricing?.price_details?.price, sim.prices.annual);
      assert.equal(
        preview.parent?.subscription_details?.subscription_proration_date,
        unix("2026-01-11T00:00:00Z"),
      );
      assert.equal(sim.events().length, before, "a preview emits nothing");
      const unchanged = await stripe.subscriptions.retrieve(subscription.id);
      assert.equal(unchanged.items.data[0].price.id, sim.prices.monthly);
    });

    await t.step(
      "update with always_invoice: the anchor resets and the invoice is paid",
      async () => {
        const events = await deliveredInOrder(
          context,
          () =>
            stripe.subscriptions.update(subscription.id, {
              items: [{ id: item.id, price: sim.prices.annual }],
              proration_behavior: "always_invoice",
            }),
        );
        assert.deepEqual(
          events.map((event) => event.type),
          [
            "customer.subscription.updated",
            "invoice.paid",
          ],
        );
        const [updated] = eventsOfType<Stripe.CustomerSubscriptionUpdatedEvent>(
          events,
          "customer.subscription.updated",
        );
        const changed = updated.data.object;
        assert.equal(changed.items.data[0].price.id, sim.prices.annual);
        assert.equal(changed.billing_cycle_anchor, unix("2026-01-11T00:00:00Z"));
        assert.equal(changed.items.data[0].current_period_start, unix("2026-01-11T00:00:00Z"));
        assert.equal(changed.items.data[0].current_period_end, unix("2027-01-11T00:00:00Z"));
        const previous = updated.data.previous_attributes!;
        assert.equal(previous.billing_cycle_anchor, unix("2026-01-01T00:00:00Z"));
        assert.equal(
          (previous.items as Stripe.ApiList<Stripe.SubscriptionItem>).data[0].price.id,
          sim.prices.monthly,
        );
        assert.ok("latest_invoice" in previous);
        const [paid] = eventsOfType<Stripe.InvoicePaidEvent>(events, "invoice.paid");
        const invoice = paid.data.object;
        assert.equal(invoice.billing_reason, "subscription_update");
        assert.equal(invoice.amount_paid, preview.amount_due);
        assert.deepEqual(
          invoice.lines.data.map((
            line,
          ) => [line.amount, line.parent?.subscription_item_details?.proration]),
          preview.lines.data.map((
            line,
          ) => [line.amount, line.parent?.subscription_item_details?.proration]),
        );
        assert.equal(changed.latest_invoice, invoice.id);
        const payments = await stripe.invoicePayments.list({ invoice: invoice.id });
        assert.equal(payments.data[0].amount_paid, 7000 - credit);
      },
    );

    await t.step("the next renewal is a year after the switch", async () => {
      const events = await deliveredInOrder(
        context,
        () => sim.advanceClock(new Date("2027-01-11T00:00:00Z")),
      );
      const [paid] = eventsOfType<Stripe.InvoicePaidEvent>(events, "invoice.paid");
      assert.equal(paid.data.object.billing_reason, "subscription_cycle");
      assert.equal(paid.data.object.amount_paid, 7000);
      assert.equal(paid.created, unix("2027-01-11T00:00:00Z"));
    });
  } finally {
    await close();
  }
});

Deno.test("a declined switch leaves the invoice open and the subscription past_due", async () => {
  const context = await startSimulatorWithReceiver({ now: () => START });
  const { sim, stripe, close } = context;
  try {
    const { subscription } = await subscribe(stripe, { price: sim.prices.monthly });
    sim.failNextPayment(subscription.id);
    await sim.settled();
    const events = await deliveredInOrder(
      context,
      () =>
        stripe.subscriptions.update(subscription.id, {
          items: [{ id: subscription.items.data[0].id, price: sim.prices.annual }],
          proration_behavior: "none",
        }),
    );
    assert.deepEqual(events.map((event) => event.type), [
      "customer.subscription.updated",
      "invoice.payment_failed",
      "customer.subscription.updated",
    ]);
    const failed = (events[1] as Stripe.InvoicePaymentFailedEvent).data.object;
    assert.equal(failed.amount_due, 7000, "proration_behavior=none: no credit");
    assert.equal(failed.lines.data.length, 1);
    assert.equal(failed.next_payment_attempt, unix("2026-01-04T00:00:00Z"));
    const status = (events[2] as Stripe.CustomerSubscriptionUpdatedEvent).data;
    assert.equal(status.object.status, "past_due");
    assert.equal(status.previous_attributes?.status, "active");
  } finally {
    await close();
  }
});

Deno.test("bad price changes are Stripe's errors", async () => {
  const { sim, stripe, close } = await startSimulatorWithReceiver({ now: () => START });
  try {
    const { subscription } = await subscribe(stripe, { price: sim.prices.monthly });
    const item = subscription.items.data[0];
    await assert.rejects(
      stripe.subscriptions.update(subscription.id, {
        items: [{ id: "si_nope", price: sim.prices.annual }],
      }),
      (error: Stripe.errors.StripeError) =>
        error.statusCode === 400 && error.param === "items[0][id]" &&
        error.code === "resource_missing",
    );
    await assert.rejects(
      stripe.subscriptions.update(subscription.id, { items: [{ id: item.id, price: "price_x" }] }),
      (error: Stripe.errors.StripeError) =>
        error.message === "No such price: 'price_x'" && error.param === "items[0][price]",
    );
    await assert.rejects(
      stripe.subscriptions.update(subscription.id, {
        items: [{ id: item.id, price: sim.prices.annual }],
        proration_behavior: "sometimes" as never,
      }),
      (error: Stripe.errors.StripeError) => error.param === "proration_behavior",
    );
    await assert.rejects(
      stripe.invoices.createPreview({
        subscription: subscription.id,
        subscription_details: {
          items: [{ id: item.id, price: sim.prices.annual }],
          proration_date: unix("2025-01-01T00:00:00Z"),
        },
      }),
      (error: Stripe.errors.StripeError) => error.param === "proration_date",
    );
    assert.equal(
      (await stripe.subscriptions.retrieve(subscription.id)).items.data[0].price.id,
      sim.prices.monthly,
    );
  } finally {
    await close();
  }
});

Deno.test("trial_end on an active subscription with proration_behavior=none", async (t) => {
  const context = await startSimulatorWithReceiver({ now: () => START });
  const { sim, stripe, close } = context;
  try {
    const { subscription } = await subscribe(stripe, { price: sim.prices.monthly });
    await sim.settled();
    const trialEnd = unix("2026-03-15T00:00:00Z");

    await t.step("it trials until then: one updated event, nothing charged", async () => {
      const events = await deliveredInOrder(
        context,
        () =>
          stripe.subscriptions.update(subscription.id, {
            trial_end: trialEnd,
            proration_behavior: "none",
          }),
      );
      assert.deepEqual(events.map((event) => event.type), ["customer.subscription.updated"]);
      const { object, previous_attributes } =
        (events[0] as Stripe.CustomerSubscriptionUpdatedEvent).data;
      assert.equal(object.status, "trialing");
      assert.equal(object.trial_end, trialEnd);
      assert.equal(object.trial_start, unix("2026-01-01T00:00:00Z"));
      assert.equal(object.items.data[0].current_period_end, trialEnd);
      assert.equal(object.billing_cycle_anchor, trialEnd);
      assert.equal(previous_attributes?.status, "active");
      const preview = await stripe.invoices.createPreview({ subscription: subscription.id });
      assert.equal(preview.next_payment_attempt, trialEnd);
      assert.equal(preview.amount_due, 700);
    });

    await t.step("no renewal on 1 February; the warning, then £7 at the trial end", async () => {
      const events = await deliveredInOrder(
        context,
        () => sim.advanceClock(new Date("2026-03-16T00:00:00Z")),
      );
      assert.deepEqual(events.map((event) => event.type), [
        "customer.subscription.trial_will_end",
        "customer.subscription.updated",
        "invoice.paid",
      ]);
      assert.equal(events[0].created, trialEnd - 3 * DAY);
      const paid = (events[2] as Stripe.InvoicePaidEvent).data.object;
      assert.equal(paid.amount_paid, 700);
      assert.equal(paid.created, trialEnd);
    });

    await t.step("other proration behaviours are refused", async () => {
      await assert.rejects(
        stripe.subscriptions.update(subscription.id, {
          trial_end: unix("2026-05-01T00:00:00Z"),
        }),
        (error: Stripe.errors.StripeError) => error.param === "proration_behavior",
      );
    });
  } finally {
    await close();
  }
});

Deno.test("trial_will_end: three days before, or at once for a trial that ends sooner", async () => {
  const context = await startSimulatorWithReceiver({ now: () => START });
  const { sim, stripe, close } = context;
  try {
    const short = await deliveredInOrder(
      context,
      () => subscribe(stripe, { price: sim.prices.annual, trialDays: 2 }),
    );
    assert.deepEqual(short.map((event) => event.type), [
      "customer.created",
      "customer.subscription.created",
      "invoice.paid",
      "checkout.session.completed",
      "customer.subscription.trial_will_end",
    ]);
    assert.equal(short[4].created, unix("2026-01-01T00:00:00Z"));

    const { subscription } = await subscribe(stripe, { price: sim.prices.annual, trialDays: 10 });
    await sim.settled();
    const moved = await deliveredInOrder(
      context,
      () =>
        stripe.subscriptions.update(subscription.id, { trial_end: unix("2026-01-02T12:00:00Z") }),
    );
    assert.deepEqual(moved.map((event) => event.type), [
      "customer.subscription.updated",
      "customer.subscription.trial_will_end",
    ]);
    const once = await deliveredInOrder(
      context,
      () => stripe.subscriptions.update(subscription.id, { metadata: { seen: "yes" } }),
    );
    assert.deepEqual(once.map((event) => event.type), ["customer.subscription.updated"]);
  } finally {
    await close();
  }
});
