import assert from "node:assert/strict";
import type Stripe from "stripe";
import {
  pressButton,
  startSimulatedStripe,
  startWebhookReceiver,
  subscribe,
} from "../helpers/stripe.ts";

Deno.test("the customer portal: cancel at period end, undo, cancel now", async (t) => {
  const { sim, stripe, close } = await startSimulatedStripe();
  const receiver = await startWebhookReceiver(sim.webhookSecret);
  sim.setWebhookUrl(receiver.url);
  try {
    const { subscription } = await subscribe(stripe, {
      price: sim.prices.monthly,
      email: "portal@example.com",
    });
    const customer = subscription.customer as string;
    const portal = await stripe.billingPortal.sessions.create({
      customer,
      return_url: "https://site.test/settings",
    });
    await sim.settled();
    receiver.events.length = 0;

    await t.step("a portal session's url shows the subscription and the way back", async () => {
      assert.match(portal.id, /^bps_\w+$/);
      assert.equal(portal.object, "billing_portal.session");
      assert.equal(portal.customer, customer);
      assert.equal(portal.return_url, "https://site.test/settings");
      assert.equal(portal.url, `${sim.url}/portal/${portal.id}`);
      const html = await (await fetch(portal.url)).text();
      assert.match(html, /Signed in as portal@example\.com/);
      assert.match(html, /Monthly plan/);
      assert.match(html, /£7\.00 per month/);
      assert.match(html, /Cancel at period end/);
      assert.match(html, /Cancel now/);
      assert.match(html, /<a href="https:\/\/site\.test\/settings">Return to site<\/a>/);
    });

    await t.step("Cancel at period end: customer.subscription.updated", async () => {
      const { response, location } = await pressButton(portal.url, "Cancel at period end");
      assert.equal(response.status, 303);
      assert.equal(location, `/portal/${portal.id}`);
      await sim.settled();
      const [updated] = receiver.ofType(
        "customer.subscription.updated",
      ) as Stripe.CustomerSubscriptionUpdatedEvent[];
      assert.equal(updated.data.object.cancel_at_period_end, true);
      assert.equal(
        updated.data.object.cancel_at,
        updated.data.object.items.data[0].current_period_end,
      );
      assert.equal(updated.data.object.status, "active");
      assert.equal(updated.data.previous_attributes?.cancel_at_period_end, false);
      assert.match(await (await fetch(portal.url)).text(), /Ends on/);
    });

    await t.step("Don't cancel undoes it", async () => {
      await pressButton(portal.url, "Don't cancel");
      // Its event must have arrived before the next step starts counting.
      await sim.settled();
      const current = await stripe.subscriptions.retrieve(subscription.id);
      assert.equal(current.cancel_at_period_end, false);
      assert.equal(current.cancel_at, null);
    });

    await t.step(
      "Cancel now: customer.subscription.deleted, and the portal shows none",
      async () => {
        receiver.events.length = 0;
        await pressButton(portal.url, "Cancel now");
        await sim.settled();
        assert.deepEqual(receiver.events.map((event) => event.type), [
          "customer.subscription.deleted",
        ]);
        const deleted = receiver.events[0] as Stripe.CustomerSubscriptionDeletedEvent;
        assert.equal(deleted.data.object.status, "canceled");
        assert.equal(deleted.data.object.cancellation_details?.reason, "cancellation_requested");
        assert.match(await (await fetch(portal.url)).text(), /You have no current subscriptions/);
      },
    );

    await t.step(
      "a canceled or foreign subscription cannot be changed from the portal",
      async () => {
        const posted = await fetch(
          `${portal.url}/subscriptions/${subscription.id}/cancel_at_period_end`,
          {
            method: "POST",
            headers: { origin: sim.url, "content-type": "application/x-www-form-urlencoded" },
            redirect: "manual",
          },
        );
        assert.equal(posted.status, 404);
        await posted.body?.cancel();
        const other = await subscribe(stripe, {
          price: sim.prices.monthly,
          email: "b@example.com",
        });
        const foreign = await fetch(
          `${portal.url}/subscriptions/${other.subscription.id}/cancel_now`,
          {
            method: "POST",
            headers: { origin: sim.url, "content-type": "application/x-www-form-urlencoded" },
            redirect: "manual",
          },
        );
        assert.equal(foreign.status, 404);
        await foreign.body?.cancel();
        assert.equal((await stripe.subscriptions.retrieve(other.subscription.id)).status, "active");
      },
    );

    await t.step("a portal for an unknown customer is refused", async () => {
      await assert.rejects(
        stripe.billingPortal.sessions.create({ customer: "cus_nope" }),
        (error: Stripe.errors.StripeError) =>
          error.statusCode === 400 && error.param === "customer" &&
          error.code === "resource_missing",
      );
    });
  } finally {
    await close();
    await receiver.close();
  }
});
