import assert from "node:assert/strict";
import Stripe from "stripe";
import {
  deliveredInOrder,
  pressButton,
  startSimulatorWithReceiver,
  subscribe,
} from "../helpers/stripe.ts";

const START = new Date("2026-01-01T00:00:00Z");

async function firstCharge(stripe: Stripe, subscription: Stripe.Subscription): Promise<string> {
  const [payment] = (await stripe.invoicePayments.list({
    invoice: subscription.latest_invoice as string,
  })).data;
  return payment.payment.charge as string;
}

Deno.test("refunds: partial, then the rest, never more than remains", async () => {
  const context = await startSimulatorWithReceiver({ now: () => START });
  const { sim, stripe, close } = context;
  try {
    const { subscription } = await subscribe(stripe, { price: sim.prices.annual });
    const charge = await firstCharge(stripe, subscription);
    await sim.settled();

    const partial = await deliveredInOrder(
      context,
      () => stripe.refunds.create({ charge, amount: 2000 }),
    );
    assert.deepEqual(partial.map((event) => event.type), ["charge.refunded", "refund.created"]);
    const refunded = (partial[0] as Stripe.ChargeRefundedEvent).data;
    assert.equal(refunded.object.amount_refunded, 2000);
    assert.equal(refunded.object.refunded, false);
    assert.deepEqual(refunded.previous_attributes, { amount_refunded: 0 });
    const refund = (partial[1] as Stripe.RefundCreatedEvent).data.object;
    assert.match(refund.id, /^re_\w+$/);
    assert.equal(refund.amount, 2000);
    assert.equal(refund.charge, charge);
    assert.equal(refund.status, "succeeded");

    await assert.rejects(
      stripe.refunds.create({ charge, amount: 6000 }),
      (error: Stripe.errors.StripeError) =>
        error instanceof Stripe.errors.StripeInvalidRequestError && error.param === "amount" &&
        /greater than unrefunded amount on charge \(£50\.00\)/.test(error.message),
    );
    await assert.rejects(
      stripe.refunds.create({}),
      /One of the following params should be provided for this request: payment_intent or charge/,
    );
    await assert.rejects(
      stripe.refunds.create({ charge: "ch_nope" }),
      (error: Stripe.errors.StripeError) => error.code === "resource_missing",
    );

    const rest = await deliveredInOrder(context, () => sim.refundLastCharge(subscription.id));
    const full = (rest[0] as Stripe.ChargeRefundedEvent).data.object;
    assert.equal(full.amount_refunded, 7000);
    assert.equal(full.refunded, true);
    assert.equal((rest[1] as Stripe.RefundCreatedEvent).data.object.amount, 5000);
    await assert.rejects(
      stripe.refunds.create({ charge }),
      (error: Stripe.errors.StripeError) => error.code === "charge_already_refunded",
    );
  } finally {
    await close();
  }
});

Deno.test("disputes: created, then closed won or lost", async () => {
  const context = await startSimulatorWithReceiver({ now: () => START });
  const { sim, stripe, close } = context;
  try {
    const first = await subscribe(stripe, { price: sim.prices.monthly });
    const second = await subscribe(stripe, { price: sim.prices.monthly, email: "b@example.com" });
    const charge = await firstCharge(stripe, first.subscription);
    await sim.settled();

    const created = await deliveredInOrder(context, () => sim.disputeCharge(charge));
    assert.deepEqual(created.map((event) => event.type), ["charge.dispute.created"]);
    const dispute = created[0].data.object as Stripe.Dispute;
    assert.match(dispute.id, /^dp_\w+$/);
    assert.equal(dispute.charge, charge);
    assert.equal(dispute.amount, 700);
    assert.equal(dispute.currency, "gbp");
    assert.equal(dispute.status, "needs_response");
    assert.equal(dispute.reason, "fraudulent");
    assert.equal((await stripe.charges.retrieve(charge)).disputed, true);
    assert.throws(() => sim.disputeCharge(charge), /already disputed/);

    const closed = await deliveredInOrder(context, () => sim.closeDispute(dispute.id, "lost"));
    assert.deepEqual(closed.map((event) => event.type), ["charge.dispute.closed"]);
    assert.equal((closed[0].data.object as Stripe.Dispute).status, "lost");
    assert.equal((await stripe.disputes.retrieve(dispute.id)).status, "lost");

    const other = await firstCharge(stripe, second.subscription);
    const response = await fetch(`${sim.url}/_sim/charges/${other}/dispute`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ reason: "product_not_received" }),
    });
    const body = await response.json() as { dispute: Stripe.Dispute };
    assert.equal(body.dispute.reason, "product_not_received");
    const won = await fetch(`${sim.url}/_sim/disputes/${body.dispute.id}/close`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ status: "won" }),
    });
    assert.equal(((await won.json()) as { dispute: Stripe.Dispute }).dispute.status, "won");
  } finally {
    await close();
  }
});

Deno.test("failNextRequests: 429s the SDK raises as StripeRateLimitError, 500s as StripeAPIError", async () => {
  const { sim, stripe, close } = await startSimulatorWithReceiver({ now: () => START });
  try {
    sim.failNextRequests({ count: 2, status: 429 });
    for (let i = 0; i < 2; i++) {
      await assert.rejects(
        stripe.customers.create({ email: "a@example.com" }),
        (error: Stripe.errors.StripeError) =>
          error instanceof Stripe.errors.StripeRateLimitError && error.statusCode === 429 &&
          error.code === "rate_limit",
      );
    }
    await stripe.customers.create({ email: "a@example.com" });

    const response = await fetch(`${sim.url}/_sim/requests/fail_next`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ count: 1, status: 500 }),
    });
    assert.equal(response.status, 200);
    await response.body?.cancel();
    await assert.rejects(
      stripe.prices.retrieve(sim.prices.monthly),
      (error: Stripe.errors.StripeError) =>
        error instanceof Stripe.errors.StripeAPIError && error.statusCode === 500,
    );
    assert.equal((await stripe.prices.retrieve(sim.prices.monthly)).id, sim.prices.monthly);
    assert.equal(
      sim.events().filter((event) => event.type === "customer.created").length,
      1,
      "failed requests change nothing",
    );
    assert.throws(() => sim.failNextRequests({ count: 1, status: 418 as never }), /429 or 500/);
  } finally {
    await close();
  }
});

Deno.test("bank debit at checkout: unpaid until it settles, then active", async () => {
  const context = await startSimulatorWithReceiver({ now: () => START });
  const { sim, stripe, close } = context;
  try {
    const session = await stripe.checkout.sessions.create({
      mode: "subscription",
      line_items: [{ price: sim.prices.monthly, quantity: 1 }],
      customer_email: "debit@example.com",
      success_url: "https://site.test/done",
    });
    const completed = await deliveredInOrder(context, async () => {
      const { location } = await pressButton(session.url!, "Bank debit \\(settles later\\)");
      assert.equal(location, "https://site.test/done");
    });
    assert.deepEqual(completed.map((event) => event.type), [
      "customer.created",
      "customer.subscription.created",
      "checkout.session.completed",
    ]);
    const subscription = (completed[1] as Stripe.CustomerSubscriptionCreatedEvent).data.object;
    assert.equal(subscription.status, "incomplete");
    const done = (completed[2] as Stripe.CheckoutSessionCompletedEvent).data.object;
    assert.equal(done.payment_status, "unpaid");
    const invoice = await stripe.invoices.retrieve(subscription.latest_invoice as string);
    assert.equal(invoice.status, "open");
    assert.equal(invoice.amount_due, 700);

    const settled = await deliveredInOrder(
      context,
      () => sim.settleDelayedPayment(session.id, "succeeded"),
    );
    assert.deepEqual(settled.map((event) => event.type), [
      "invoice.paid",
      "customer.subscription.updated",
      "checkout.session.async_payment_succeeded",
    ]);
    const updated = (settled[1] as Stripe.CustomerSubscriptionUpdatedEvent).data;
    assert.equal(updated.object.status, "active");
    assert.equal(updated.previous_attributes?.status, "incomplete");
    assert.equal(
      (settled[2] as Stripe.CheckoutSessionAsyncPaymentSucceededEvent).data.object.payment_status,
      "paid",
    );
    const [payment] = (await stripe.invoicePayments.list({ invoice: invoice.id })).data;
    const charge = await stripe.charges.retrieve(payment.payment.charge as string);
    assert.equal(charge.payment_method_details?.type, "bacs_debit");
    assert.throws(() => sim.settleDelayedPayment(session.id, "failed"), /no bank debit waiting/);
  } finally {
    await close();
  }
});

Deno.test("bank debit that fails: the subscription ends incomplete_expired", async () => {
  const context = await startSimulatorWithReceiver({ now: () => START });
  const { sim, stripe, close } = context;
  try {
    const session = await stripe.checkout.sessions.create({
      mode: "subscription",
      line_items: [{ price: sim.prices.annual, quantity: 1 }],
      success_url: "https://site.test/done",
    });
    await pressButton(session.url!, "Bank debit \\(settles later\\)", {
      email: "fails@example.com",
    });
    await sim.settled();
    const response = await fetch(`${sim.url}/_sim/checkout/${session.id}/settle`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ outcome: "failed" }),
    });
    assert.equal(response.status, 200);
    await response.body?.cancel();
    await sim.settled();
    const events = sim.events().slice(-4);
    assert.deepEqual(events.map((event) => event.type), [
      "invoice.payment_failed",
      "invoice.voided",
      "customer.subscription.deleted",
      "checkout.session.async_payment_failed",
    ]);
    const failed = events[0].data.object as Stripe.Invoice;
    assert.equal(failed.attempt_count, 1);
    assert.equal((events[3].data.object as Stripe.Checkout.Session).payment_status, "unpaid");
    const deleted = events[2].data.object as Stripe.Subscription;
    assert.equal(deleted.status, "incomplete_expired");
    assert.equal((events[1].data.object as Stripe.Invoice).status, "void");
    const listed = await stripe.subscriptions.list({ status: "incomplete_expired" });
    assert.deepEqual(listed.data.map((s) => s.id), [deleted.id]);
  } finally {
    await close();
  }
});

Deno.test("portal configurations decide the portal's buttons; plan switching bills at once", async (t) => {
  const context = await startSimulatorWithReceiver({ now: () => START });
  const { sim, stripe, close } = context;
  try {
    const { subscription } = await subscribe(stripe, { price: sim.prices.monthly });
    const customer = subscription.customer as string;

    const restricted = await stripe.billingPortal.configurations.create({
      business_profile: { headline: "Reading, managed" },
      default_return_url: "https://site.test/account",
      features: {
        subscription_cancel: { enabled: true, mode: "at_period_end" },
        subscription_update: { enabled: false },
        payment_method_update: { enabled: true },
        invoice_history: { enabled: false },
      },
      metadata: { purpose: "tests" },
    });

    await t.step("create, retrieve, list and update configurations", async () => {
      assert.match(restricted.id, /^bpc_\w+$/);
      assert.equal(restricted.object, "billing_portal.configuration");
      assert.equal(restricted.is_default, false);
      assert.equal(restricted.features.subscription_cancel.mode, "at_period_end");
      assert.equal(restricted.features.subscription_update.enabled, false);
      assert.equal(restricted.business_profile.headline, "Reading, managed");
      assert.deepEqual(restricted.metadata, { purpose: "tests" });
      const list = await stripe.billingPortal.configurations.list();
      assert.deepEqual(list.data.map((c) => c.id), [restricted.id, "bpc_sim_default"]);
      const updated = await stripe.billingPortal.configurations.update(restricted.id, {
        features: { invoice_history: { enabled: true } },
      });
      assert.equal(updated.features.invoice_history.enabled, true);
      assert.equal(updated.features.payment_method_update.enabled, true, "others unchanged");
      await assert.rejects(
        stripe.billingPortal.configurations.create({
          features: { subscription_cancel: { enabled: true, colour: "red" } as never },
        }),
        (error: Stripe.errors.StripeError) =>
          error.code === "parameter_unknown" &&
          error.param === "features[subscription_cancel][colour]",
      );
    });

    await t.step("a restricted portal: no plan switching, no Cancel now", async () => {
      const portal = await stripe.billingPortal.sessions.create({
        customer,
        configuration: restricted.id,
      });
      assert.equal(portal.configuration, restricted.id);
      assert.equal(portal.return_url, "https://site.test/account");
      const html = await (await fetch(portal.url)).text();
      assert.match(html, /Reading, managed/);
      assert.match(html, /Cancel at period end/);
      assert.match(html, /Update card/);
      assert.match(html, /Invoice history/);
      assert.doesNotMatch(html, /Switch to/);
      assert.doesNotMatch(html, /Cancel now/);
      const refused = await fetch(
        `${portal.url}/subscriptions/${subscription.id}/cancel_now`,
        { method: "POST", headers: { origin: sim.url }, redirect: "manual" },
      );
      assert.equal(refused.status, 404);
      await refused.body?.cancel();
    });

    await t.step("the default portal switches plans and invoices at once", async () => {
      const portal = await stripe.billingPortal.sessions.create({ customer });
      const events = await deliveredInOrder(context, async () => {
        const { response } = await pressButton(portal.url, "Switch to Annual plan");
        assert.equal(response.status, 303);
      });
      assert.deepEqual(events.map((event) => event.type), [
        "customer.subscription.updated",
        "invoice.paid",
      ]);
      const paid = (events[1] as Stripe.InvoicePaidEvent).data.object;
      assert.equal(paid.billing_reason, "subscription_update");
      assert.equal(paid.amount_paid, 7000 - 700, "a whole unused month is credited");
      assert.equal(
        (await stripe.subscriptions.retrieve(subscription.id)).items.data[0].price.id,
        sim.prices.annual,
      );
    });

    await t.step("an unknown configuration is refused", async () => {
      await assert.rejects(
        stripe.billingPortal.sessions.create({ customer, configuration: "bpc_nope" }),
        (error: Stripe.errors.StripeError) =>
          error.param === "configuration" && error.code === "resource_missing",
      );
    });
  } finally {
    await close();
  }
});
