import assert from "node:assert/strict";
import { createTestApp } from "../helpers/app.ts";
import { deliver, stripeEvent, subscriptionObject } from "../helpers/stripe_events.ts";
import { subscribe } from "../helpers/stripe.ts";
import { createUser, reload } from "../helpers/users.ts";

Deno.test("two updates stamped with the same second are settled by asking Stripe", async () => {
  const app = await createTestApp({ payments: "simulator" });
  try {
    const user = await createUser(app.db.sql, { customer: null });
    const customer = await app.stripe!.customers.create({ email: user.email });
    await app.db.sql`update users set stripe_customer_id = ${customer.id} where id = ${user.id}`;
    const { subscription } = await subscribe(app.stripe!, {
      price: app.sim!.prices.monthly,
      customer: customer.id,
    });
    app.sim!.failNextPayment(subscription.id);
    app.sim!.advanceSubscription(subscription.id);
    await app.sim!.settled();
    assert.equal((await reload(app.db.sql, user)).stripeSubscriptionStatus, "past_due");

    // An "active" update from the same second arrives late: the events cannot say which came
    // first, Stripe can (the subscription is past due).
    const [{ lastEventAt }] = await app.db.sql`
      select last_event_at from subscriptions where stripe_subscription_id = ${subscription.id}`;
    const late = stripeEvent(
      "customer.subscription.updated",
      subscriptionObject(subscription.id, customer.id, "active"),
      { created: lastEventAt.getTime() / 1000 },
    );
    const response = await deliver(app, late, { secret: app.sim!.webhookSecret });
    assert.deepEqual(await response.json(), { status: "ok" });
    assert.equal((await reload(app.db.sql, user)).stripeSubscriptionStatus, "past_due");
  } finally {
    await app.close();
  }
});
