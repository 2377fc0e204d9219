import assert from "node:assert/strict";
import type Stripe from "stripe";
import {
  deliveredInOrder,
  pressButton,
  startSimulatorWithReceiver,
  subscribe,
} from "../helpers/stripe.ts";

const START = new Date("2026-01-01T00:00:00Z");
const unix = (iso: string) => Date.parse(iso) / 1000;

/** Each event's type and the fields that matter here, to compare a whole sequence at once. */
function summary(events: Stripe.Event[]): unknown[][] {
  return events.map((event) => {
    const object = event.data.object as unknown as Record<string, unknown>;
    if (event.type === "invoice.payment_failed") {
      return [event.type, object.attempt_count, object.next_payment_attempt];
    }
    if (event.type === "invoice.paid") return [event.type, object.attempt_count];
    if (event.type.startsWith("customer.subscription.")) return [event.type, object.status];
    return [event.type];
  });
}

Deno.test("a card declined twice is retried 3 and 5 days later and recovers", async () => {
  const context = await startSimulatorWithReceiver({ now: () => START });
  const { sim, stripe, close } = context;
  try {
    const { subscription } = await subscribe(stripe, { price: sim.prices.monthly });
    sim.failPayments(subscription.id, 2);
    await sim.settled();
    const events = await deliveredInOrder(
      context,
      () => sim.advanceClock(new Date("2026-02-20T00:00:00Z")),
    );
    assert.deepEqual(summary(events), [
      ["invoice.upcoming"],
      ["customer.subscription.updated", "active"],
      ["invoice.payment_failed", 1, unix("2026-02-04T00:00:00Z")],
      ["customer.subscription.updated", "past_due"],
      ["invoice.payment_failed", 2, unix("2026-02-09T00:00:00Z")],
      ["invoice.paid", 3],
      ["customer.subscription.updated", "active"],
    ]);
    assert.deepEqual(events.map((event) => event.created), [
      unix("2026-01-25T00:00:00Z"),
      unix("2026-02-01T00:00:00Z"),
      unix("2026-02-01T00:00:00Z"),
      unix("2026-02-01T00:00:00Z"),
      unix("2026-02-04T00:00:00Z"),
      unix("2026-02-09T00:00:00Z"),
      unix("2026-02-09T00:00:00Z"),
    ]);
    const paid = (events[5] as Stripe.InvoicePaidEvent).data.object;
    assert.equal(paid.id, (events[2] as Stripe.InvoicePaymentFailedEvent).data.object.id);
    assert.equal(paid.next_payment_attempt, null);
  } finally {
    await close();
  }
});

Deno.test("a card that never recovers: after the last retry the subscription is canceled", async () => {
  const context = await startSimulatorWithReceiver({ now: () => START });
  const { sim, stripe, close } = context;
  try {
    const { subscription } = await subscribe(stripe, { price: sim.prices.monthly });
    sim.failPayments(subscription.id, "until_card_updated");
    sim.advanceClock(new Date("2026-01-31T00:00:00Z"));
    await sim.settled();
    const events = await deliveredInOrder(
      context,
      () => sim.advanceClock(new Date("2026-02-20T00:00:00Z")),
    );
    assert.deepEqual(summary(events), [
      ["customer.subscription.updated", "active"],
      ["invoice.payment_failed", 1, unix("2026-02-04T00:00:00Z")],
      ["customer.subscription.updated", "past_due"],
      ["invoice.payment_failed", 2, unix("2026-02-09T00:00:00Z")],
      ["invoice.payment_failed", 3, unix("2026-02-16T00:00:00Z")],
      ["invoice.payment_failed", 4, null],
      ["customer.subscription.deleted", "canceled"],
    ]);
    const deleted = (events.at(-1) as Stripe.CustomerSubscriptionDeletedEvent).data.object;
    assert.equal(deleted.cancellation_details?.reason, "payment_failed");
    assert.equal(deleted.ended_at, unix("2026-02-16T00:00:00Z"));
  } finally {
    await close();
  }
});

Deno.test("after the last retry: unpaid or past_due, as configured (over /_sim too)", async () => {
  const context = await startSimulatorWithReceiver({ now: () => START });
  const { sim, stripe, close } = context;
  try {
    const response = await fetch(`${sim.url}/_sim/configure`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ afterFailedRetries: "unpaid", retrySchedule: [2] }),
    });
    assert.deepEqual(await response.json(), {
      settings: { afterFailedRetries: "unpaid", retrySchedule: [2], upcomingInvoiceDays: 7 },
    });
    assert.match(await (await fetch(`${sim.url}/_sim`)).text(), /value="2"/);
    const { subscription } = await subscribe(stripe, { price: sim.prices.monthly });
    sim.failPayments(subscription.id, "until_card_updated");
    sim.advanceClock(new Date("2026-01-31T00:00:00Z"));
    await sim.settled();
    const unpaid = await deliveredInOrder(
      context,
      () => sim.advanceClock(new Date("2026-02-10T00:00:00Z")),
    );
    assert.deepEqual(summary(unpaid), [
      ["customer.subscription.updated", "active"],
      ["invoice.payment_failed", 1, unix("2026-02-03T00:00:00Z")],
      ["customer.subscription.updated", "past_due"],
      ["invoice.payment_failed", 2, null],
      ["customer.subscription.updated", "unpaid"],
    ]);
    const open = await stripe.invoices.list({ subscription: subscription.id, status: "open" });
    assert.equal(open.data.length, 1, "the invoice stays open");

    const bad = await fetch(`${sim.url}/_sim/configure`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ afterFailedRetries: "shrug" }),
    });
    assert.equal(bad.status, 400);
    await bad.body?.cancel();

    sim.configure({ afterFailedRetries: "past_due", retrySchedule: [] });
    const other = await subscribe(stripe, { price: sim.prices.monthly });
    sim.failNextPayment(other.subscription.id);
    await sim.settled();
    const left = await deliveredInOrder(
      context,
      () => sim.advanceSubscription(other.subscription.id),
    );
    const first = left.filter((event) =>
      (event.data.object as Stripe.Subscription).id === subscription.id
    );
    assert.deepEqual(summary(first), [["customer.subscription.updated", "unpaid"]]);
    assert.equal(
      (await stripe.invoices.list({ subscription: subscription.id, status: "open" })).data.length,
      2,
      "an unpaid subscription still renews, into an invoice that is not attempted",
    );
    const others = left.filter((event) =>
      (event.data.object as Stripe.Subscription).id === other.subscription.id ||
      (event.data.object as Stripe.Invoice).parent?.subscription_details?.subscription ===
        other.subscription.id
    );
    assert.deepEqual(summary(others).filter(([type]) => type !== "invoice.upcoming"), [
      ["customer.subscription.updated", "active"],
      ["invoice.payment_failed", 1, null],
      ["customer.subscription.updated", "past_due"],
    ]);
  } finally {
    await close();
  }
});

Deno.test("a new card from the portal's payment_method_update flow pays the next retry", async (t) => {
  const context = await startSimulatorWithReceiver({ now: () => START });
  const { sim, stripe, close } = context;
  try {
    const { subscription } = await subscribe(stripe, { price: sim.prices.monthly });
    const customer = subscription.customer as string;
    sim.failPayments(subscription.id, "until_card_updated");
    sim.advanceClock(new Date("2026-02-01T00:00:00Z"));
    assert.equal((await stripe.subscriptions.retrieve(subscription.id)).status, "past_due");
    await sim.settled();

    const portal = await stripe.billingPortal.sessions.create({
      customer,
      return_url: "https://site.test/account",
      flow_data: {
        type: "payment_method_update",
        after_completion: {
          type: "redirect",
          redirect: { return_url: "https://site.test/account?card=updated" },
        },
      },
    });
    assert.equal(portal.flow?.type, "payment_method_update");
    assert.equal(
      portal.flow?.after_completion.redirect?.return_url,
      "https://site.test/account?card=updated",
    );

    await t.step("the page shows only the card form", async () => {
      const html = await (await fetch(portal.url)).text();
      assert.match(html, /Update your payment method/);
      assert.match(html, /visa ending 4242/);
      assert.doesNotMatch(html, /Cancel now|Switch to|Invoice history/);
    });

    let newCard = "";
    await t.step("saving the card attaches it as the default and redirects", async () => {
      const events = await deliveredInOrder(context, async () => {
        const { response, location } = await pressButton(portal.url, "Save card", {
          card: "5555555555554444",
        });
        assert.equal(response.status, 303);
        assert.equal(location, "https://site.test/account?card=updated");
      });
      assert.deepEqual(events.map((event) => event.type), [
        "payment_method.attached",
        "customer.updated",
      ]);
      const method = events[0].data.object as Stripe.PaymentMethod;
      newCard = method.id;
      assert.equal(method.card?.last4, "4444");
      const updated = events[1] as Stripe.CustomerUpdatedEvent;
      assert.equal(updated.data.object.invoice_settings.default_payment_method, newCard);
      assert.ok(updated.data.previous_attributes?.invoice_settings);
    });

    await t.step("the retry three days later succeeds with it", async () => {
      const events = await deliveredInOrder(
        context,
        () => sim.advanceClock(new Date("2026-02-04T00:00:00Z")),
      );
      assert.deepEqual(summary(events), [
        ["invoice.paid", 2],
        ["customer.subscription.updated", "active"],
      ]);
      const invoice = (events[0] as Stripe.InvoicePaidEvent).data.object;
      const [payment] = (await stripe.invoicePayments.list({ invoice: invoice.id })).data;
      const charge = await stripe.charges.retrieve(payment.payment.charge as string);
      assert.equal(charge.payment_method, newCard);
    });
  } finally {
    await close();
  }
});

Deno.test("invoice.upcoming: days before each renewal, once, not for a subscription that ends", async () => {
  const context = await startSimulatorWithReceiver({ now: () => START });
  const { sim, stripe, close } = context;
  try {
    const renewing = await subscribe(stripe, { price: sim.prices.monthly });
    const ending = await subscribe(stripe, { price: sim.prices.monthly, email: "e@example.com" });
    await stripe.subscriptions.update(ending.subscription.id, { cancel_at_period_end: true });
    sim.configure({ upcomingInvoiceDays: 3 });
    await sim.settled();
    const events = await deliveredInOrder(
      context,
      () => sim.advanceClock(new Date("2026-01-31T00:00:00Z")),
    );
    assert.deepEqual(events.map((event) => event.type), ["invoice.upcoming"]);
    const [upcoming] = events as Stripe.InvoiceUpcomingEvent[];
    assert.equal(upcoming.created, unix("2026-01-29T00:00:00Z"));
    const invoice = upcoming.data.object;
    assert.equal("id" in invoice, false, "an upcoming invoice has no id yet");
    assert.equal(invoice.amount_due, 700);
    assert.equal(invoice.next_payment_attempt, unix("2026-02-01T00:00:00Z"));
    assert.equal(invoice.period_end, unix("2026-02-01T00:00:00Z"));
    assert.equal(invoice.parent?.subscription_details?.subscription, renewing.subscription.id);
    assert.deepEqual(invoice.lines.data[0].period, {
      start: unix("2026-02-01T00:00:00Z"),
      end: unix("2026-03-01T00:00:00Z"),
    });
    const quiet = await deliveredInOrder(
      context,
      () => sim.advanceClock(new Date("2026-01-31T12:00:00Z")),
    );
    assert.deepEqual(quiet, [], "once per period");
  } finally {
    await close();
  }
});

Deno.test("a trial that ends without a payment method: pause, cancel or a failed invoice", async (t) => {
  const context = await startSimulatorWithReceiver({ now: () => START });
  const { sim, stripe, close } = context;
  async function cardlessTrial(missing: "pause" | "cancel" | "create_invoice") {
    const session = await stripe.checkout.sessions.create({
      mode: "subscription",
      line_items: [{ price: sim.prices.annual, quantity: 1 }],
      customer_email: `${missing}@example.com`,
      subscription_data: {
        trial_period_days: 14,
        trial_settings: { end_behavior: { missing_payment_method: missing } },
      },
      success_url: "https://site.test/done",
    });
    await pressButton(session.url!, "Pay");
    const paid = await stripe.checkout.sessions.retrieve(session.id);
    const subscription = await stripe.subscriptions.retrieve(paid.subscription as string);
    assert.equal(subscription.trial_settings?.end_behavior.missing_payment_method, missing);
    sim.removePaymentMethod(paid.customer as string);
    return subscription;
  }
  try {
    const paused = await cardlessTrial("pause");
    const canceled = await cardlessTrial("cancel");
    const invoiced = await cardlessTrial("create_invoice");
    await sim.settled();
    const events = await deliveredInOrder(
      context,
      () => sim.advanceClock(new Date("2026-01-15T00:00:00Z")),
    );
    const of = (id: string) =>
      summary(
        events.filter((event) =>
          (event.data.object as { id?: string; parent?: Stripe.Invoice["parent"] }).id === id ||
          (event.data.object as Stripe.Invoice).parent?.subscription_details?.subscription === id
        ),
      );

    await t.step("pause: paused, then updated; no invoice", () => {
      assert.deepEqual(of(paused.id), [
        ["customer.subscription.trial_will_end", "trialing"],
        ["customer.subscription.paused", "paused"],
        ["customer.subscription.updated", "paused"],
      ]);
    });
    await t.step("cancel: deleted", () => {
      assert.deepEqual(of(canceled.id), [
        ["customer.subscription.trial_will_end", "trialing"],
        ["customer.subscription.deleted", "canceled"],
      ]);
    });
    await t.step("create_invoice (Stripe's default): the invoice fails, past_due", () => {
      assert.deepEqual(of(invoiced.id), [
        ["customer.subscription.trial_will_end", "trialing"],
        ["customer.subscription.updated", "active"],
        ["invoice.payment_failed", 1, unix("2026-01-18T00:00:00Z")],
        ["customer.subscription.updated", "past_due"],
      ]);
    });
    await t.step("removing the card emitted payment_method.detached", async () => {
      const detached = sim.events().filter((event) => event.type === "payment_method.detached");
      assert.equal(detached.length, 3);
      const method = detached[0].data.object as Stripe.PaymentMethod;
      assert.equal(method.customer, null);
      assert.equal((await stripe.paymentMethods.retrieve(method.id)).customer, null);
      assert.throws(() => sim.removePaymentMethod(paused.customer as string), /no payment method/);
    });
  } finally {
    await close();
  }
});
