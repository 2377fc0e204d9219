import assert from "node:assert/strict";
import type Stripe from "stripe";
import {
  pressButton,
  startSimulatorWithReceiver,
  type WebhookReceiver,
} from "../helpers/stripe.ts";

const DAY = 24 * 3600;

function only<T extends Stripe.Event>(receiver: WebhookReceiver, type: string): T {
  const events = receiver.ofType(type);
  assert.equal(events.length, 1, `expected one ${type}, got ${events.length}`);
  return events[0] as T;
}

Deno.test("a monthly checkout paid on the hosted page", async (t) => {
  const { sim, stripe, receiver, close } = await startSimulatorWithReceiver();
  try {
    const session = await stripe.checkout.sessions.create({
      mode: "subscription",
      line_items: [{ price: sim.prices.monthly, quantity: 1 }],
      customer_email: "reader@example.com",
      client_reference_id: "user_42",
      success_url: "https://site.test/billing/done?session={CHECKOUT_SESSION_ID}",
      cancel_url: "https://site.test/pricing",
      allow_promotion_codes: true,
      metadata: { user_id: "42" },
    });

    await t.step("the session is open, for £7 today, with a hosted page", async () => {
      assert.match(session.id, /^cs_test_\w+$/);
      assert.equal(session.object, "checkout.session");
      assert.equal(session.status, "open");
      assert.equal(session.payment_status, "unpaid");
      assert.equal(session.mode, "subscription");
      assert.equal(session.amount_total, 700);
      assert.equal(session.currency, "gbp");
      assert.equal(session.customer, null);
      assert.equal(session.customer_email, "reader@example.com");
      assert.equal(session.client_reference_id, "user_42");
      assert.equal(session.allow_promotion_codes, true);
      assert.deepEqual(session.metadata, { user_id: "42" });
      assert.equal(session.url, `${sim.url}/checkout/${session.id}`);
      const page = await fetch(session.url!);
      assert.equal(page.status, 200);
      const html = await page.text();
      assert.match(html, /Monthly/);
      assert.match(html, /£7\.00 per month/);
      assert.match(html, /Paying as reader@example\.com/);
      assert.match(html, /<button type="submit">Pay<\/button>/);
      assert.match(html, /<button type="submit" class="secondary">Cancel<\/button>/);
    });

    let subscriptionId = "";
    await t.step(
      "Pay creates customer, subscription and paid invoice, then redirects",
      async () => {
        const { response, location } = await pressButton(session.url!, "Pay");
        assert.equal(response.status, 303);
        assert.equal(location, `https://site.test/billing/done?session=${session.id}`);
        await sim.settled();

        assert.deepEqual(receiver.rejected, []);
        assert.deepEqual(
          receiver.events.map((event) => event.type).sort(),
          [
            "checkout.session.completed",
            "customer.created",
            "customer.subscription.created",
            "invoice.paid",
          ],
        );
        const customer =
          only<Stripe.CustomerCreatedEvent>(receiver, "customer.created").data.object;
        assert.equal(customer.email, "reader@example.com");

        const created = only<Stripe.CustomerSubscriptionCreatedEvent>(
          receiver,
          "customer.subscription.created",
        ).data.object;
        subscriptionId = created.id;
        assert.equal(created.status, "active");
        assert.equal(created.customer, customer.id);
        assert.equal(created.trial_end, null);
        assert.equal(created.cancel_at_period_end, false);
        const item = created.items.data[0];
        assert.equal(item.price.id, sim.prices.monthly);
        assert.equal(item.current_period_start, created.created);
        assert.equal(
          new Date(item.current_period_end * 1000).getUTCMonth(),
          (new Date(created.created * 1000).getUTCMonth() + 1) % 12,
        );

        const invoice = only<Stripe.InvoicePaidEvent>(receiver, "invoice.paid").data.object;
        assert.equal(invoice.status, "paid");
        assert.equal(invoice.billing_reason, "subscription_create");
        assert.equal(invoice.amount_paid, 700);
        assert.equal(invoice.amount_due, 700);
        assert.equal(invoice.currency, "gbp");
        assert.equal(invoice.customer, customer.id);
        assert.equal(invoice.parent?.subscription_details?.subscription, created.id);
        assert.equal(created.latest_invoice, invoice.id);
        assert.equal(invoice.lines.data[0].period.end, item.current_period_end);

        const completed = only<Stripe.CheckoutSessionCompletedEvent>(
          receiver,
          "checkout.session.completed",
        ).data.object;
        assert.equal(completed.id, session.id);
        assert.equal(completed.status, "complete");
        assert.equal(completed.payment_status, "paid");
        assert.equal(completed.customer, customer.id);
        assert.equal(completed.subscription, created.id);
        assert.equal(completed.client_reference_id, "user_42");
        assert.deepEqual(completed.metadata, { user_id: "42" });
      },
    );

    await t.step("every event is Stripe's shape and can be fetched again", async () => {
      for (const event of receiver.events) {
        assert.match(event.id, /^evt_\w+$/);
        assert.equal(event.object, "event");
        assert.equal(event.api_version, "2026-10-28.endive");
        assert.equal(event.livemode, false);
        assert.equal(typeof event.created, "number");
        assert.equal(event.pending_webhooks, 1);
        // Caused by the buyer on the hosted page, not by an API request.
        assert.deepEqual(event.request, { id: null, idempotency_key: null });
        const fetched = await stripe.events.retrieve(event.id);
        assert.deepEqual(fetched.data, event.data);
        assert.equal(fetched.pending_webhooks, 0, "delivered, so nothing is pending");
      }
    });

    await t.step("the API shows the same subscription and session", async () => {
      const subscription = await stripe.subscriptions.retrieve(subscriptionId);
      assert.equal(subscription.status, "active");
      const fetched = await stripe.checkout.sessions.retrieve(session.id, {
        expand: ["line_items", "subscription"],
      });
      assert.equal(fetched.status, "complete");
      assert.equal((fetched.subscription as Stripe.Subscription).id, subscriptionId);
      assert.equal(fetched.line_items?.data[0].price?.id, sim.prices.monthly);
      assert.equal(fetched.line_items?.data[0].amount_total, 700);
    });

    await t.step("paying the same session again changes nothing", async () => {
      const before = sim.events().length;
      // The page now offers no Pay button; a stale form posted again must not pay twice.
      const response = await fetch(`${session.url}/pay`, {
        method: "POST",
        headers: { origin: sim.url, "content-type": "application/x-www-form-urlencoded" },
        body: "",
        redirect: "manual",
      });
      assert.equal(response.status, 409);
      assert.match(await response.text(), /This checkout session is complete/);
      assert.equal(sim.events().length, before);
    });
  } finally {
    await close();
  }
});

Deno.test("an annual checkout with a 14-day trial: £0 now, the full price when it ends", async (t) => {
  const { sim, stripe, receiver, close } = await startSimulatorWithReceiver();
  try {
    const session = await stripe.checkout.sessions.create({
      mode: "subscription",
      line_items: [{ price: sim.prices.annual, quantity: 1 }],
      subscription_data: { trial_period_days: 14, metadata: { plan: "annual" } },
      success_url: "https://site.test/done",
      cancel_url: "https://site.test/pricing",
    });
    assert.equal(session.amount_total, 0, "nothing is due today during a trial");
    const html = await (await fetch(session.url!)).text();
    assert.match(html, /Free trial/);
    assert.match(html, /14 days/);
    assert.match(html, /<label for="email">Email address<\/label>/);

    let subscription!: Stripe.Subscription;
    await t.step("paying starts a trial with a £0 invoice", async () => {
      const { location } = await pressButton(session.url!, "Pay", { email: "trial@example.com" });
      assert.equal(location, "https://site.test/done");
      await sim.settled();
      subscription = only<Stripe.CustomerSubscriptionCreatedEvent>(
        receiver,
        "customer.subscription.created",
      ).data.object;
      assert.equal(subscription.status, "trialing");
      assert.equal(subscription.trial_start, subscription.created);
      assert.equal(subscription.trial_end, subscription.created + 14 * DAY);
      assert.equal(subscription.items.data[0].current_period_end, subscription.trial_end);
      assert.deepEqual(subscription.metadata, { plan: "annual" });
      const invoice = only<Stripe.InvoicePaidEvent>(receiver, "invoice.paid").data.object;
      assert.equal(invoice.amount_paid, 0);
      assert.equal(invoice.billing_reason, "subscription_create");
      assert.equal(invoice.parent?.subscription_details?.subscription, subscription.id);
      assert.deepEqual(invoice.parent?.subscription_details?.metadata, { plan: "annual" });
      const completed = only<Stripe.CheckoutSessionCompletedEvent>(
        receiver,
        "checkout.session.completed",
      ).data.object;
      assert.equal(completed.payment_status, "no_payment_required");
      assert.equal(completed.customer_details?.email, "trial@example.com");
    });

    await t.step("at the trial's end it turns active and £70 is paid", async () => {
      receiver.events.length = 0;
      sim.advanceSubscription(subscription.id);
      await sim.settled();
      assert.deepEqual(receiver.events.map((event) => event.type).sort(), [
        "customer.subscription.trial_will_end",
        "customer.subscription.updated",
        "invoice.paid",
      ]);
      const warned = only<Stripe.CustomerSubscriptionTrialWillEndEvent>(
        receiver,
        "customer.subscription.trial_will_end",
      );
      assert.equal(warned.created, subscription.trial_end! - 3 * DAY, "three days before");
      assert.equal(warned.data.object.status, "trialing");
      const updated = only<Stripe.CustomerSubscriptionUpdatedEvent>(
        receiver,
        "customer.subscription.updated",
      );
      assert.equal(updated.data.object.status, "active");
      assert.equal(updated.data.previous_attributes?.status, "trialing");
      assert.equal(updated.created, subscription.trial_end, "it happened when the trial ended");
      const item = updated.data.object.items.data[0];
      assert.equal(item.current_period_start, subscription.trial_end);
      assert.equal(
        new Date(item.current_period_end * 1000).getUTCFullYear(),
        new Date(subscription.trial_end! * 1000).getUTCFullYear() + 1,
      );
      const invoice = only<Stripe.InvoicePaidEvent>(receiver, "invoice.paid").data.object;
      assert.equal(invoice.amount_paid, 7000);
      assert.equal(invoice.billing_reason, "subscription_cycle");
      assert.equal(invoice.customer, subscription.customer);
      assert.equal(invoice.parent?.subscription_details?.subscription, subscription.id);
      assert.equal((await stripe.subscriptions.retrieve(subscription.id)).status, "active");
    });
  } finally {
    await close();
  }
});

Deno.test("checking out as an existing customer creates no second customer", async () => {
  const { sim, stripe, receiver, close } = await startSimulatorWithReceiver();
  try {
    const customer = await stripe.customers.create({ email: "known@example.com" });
    const session = await stripe.checkout.sessions.create({
      mode: "subscription",
      customer: customer.id,
      line_items: [{ price: sim.prices.monthly, quantity: 1 }],
      success_url: "https://site.test/done",
    });
    assert.equal(session.customer, customer.id);
    assert.doesNotMatch(await (await fetch(session.url!)).text(), /Cancel<\/button>/);
    await pressButton(session.url!, "Pay");
    await sim.settled();
    assert.equal(receiver.ofType("customer.created").length, 1, "only the API's own create");
    const subscription = only<Stripe.CustomerSubscriptionCreatedEvent>(
      receiver,
      "customer.subscription.created",
    ).data.object;
    assert.equal(subscription.customer, customer.id);
  } finally {
    await close();
  }
});

Deno.test("Cancel goes back to cancel_url and leaves the session open", async () => {
  const { sim, stripe, receiver, close } = await startSimulatorWithReceiver();
  try {
    const session = await stripe.checkout.sessions.create({
      mode: "subscription",
      line_items: [{ price: sim.prices.monthly, quantity: 1 }],
      success_url: "https://site.test/done",
      cancel_url: "https://site.test/pricing?cancelled=1",
    });
    const { response, location } = await pressButton(session.url!, "Cancel");
    assert.equal(response.status, 303);
    assert.equal(location, "https://site.test/pricing?cancelled=1");
    assert.equal((await stripe.checkout.sessions.retrieve(session.id)).status, "open");
    await sim.settled();
    assert.equal(receiver.events.length, 0);
  } finally {
    await close();
  }
});

Deno.test("paying without an email address asks for one and changes nothing", async () => {
  const { sim, stripe, close } = await startSimulatorWithReceiver();
  try {
    const session = await stripe.checkout.sessions.create({
      mode: "subscription",
      line_items: [{ price: sim.prices.monthly, quantity: 1 }],
      success_url: "https://site.test/done",
    });
    const missing = await pressButton(session.url!, "Pay");
    assert.equal(missing.response.status, 409);
    assert.match(await missing.response.text(), /role="alert">Enter an email address to pay\./);
    const invalid = await pressButton(session.url!, "Pay", { email: "not-an-address" });
    assert.equal(invalid.response.status, 400);
    assert.match(await invalid.response.text(), /Enter a valid email address\./);
    assert.equal(sim.events().length, 0);
    assert.equal((await stripe.checkout.sessions.retrieve(session.id)).status, "open");
  } finally {
    await close();
  }
});
