import assert from "node:assert/strict";
import type Stripe from "stripe";
import {
  FAST_RETRIES,
  startSimulatedStripe,
  startSimulatorWithReceiver,
  startWebhookReceiver,
  subscribe,
} from "../helpers/stripe.ts";

Deno.test("signatures use wall-clock time even when the simulator's clock is elsewhere", async () => {
  // Years away from the receiver's clock: a signature timestamped with it would be rejected by
  // constructEventAsync's five-minute tolerance.
  const { sim, stripe, receiver, close } = await startSimulatorWithReceiver({
    now: () => new Date("2031-06-01T00:00:00Z"),
  });
  try {
    const { subscription } = await subscribe(stripe, { price: sim.prices.monthly });
    sim.advanceSubscription(subscription.id, { to: new Date("2033-01-01T00:00:00Z") });
    await sim.settled();
    assert.deepEqual(receiver.rejected, []);
    assert.ok(receiver.events.length > 4);
    // Deliveries run concurrently, so the newest event need not arrive last.
    const newest = Math.max(...receiver.ofType("invoice.paid").map((event) => event.created));
    assert.ok(newest > Date.parse("2032-01-01") / 1000, "events carry simulated time");
  } finally {
    await close();
  }
});

Deno.test("a receiver with another secret rejects every delivery", async () => {
  const { sim, stripe, close } = await startSimulatorWithReceiver();
  const impostor = await startWebhookReceiver("whsec_somebodyelse");
  try {
    sim.setWebhookUrl(impostor.url);
    await stripe.customers.create({ email: "a@example.com" });
    await sim.settled();
    assert.equal(impostor.events.length, 0);
    assert.equal(impostor.rejected.length, 1 + FAST_RETRIES.length, "400s are retried too");
    assert.match(impostor.rejected[0], /No signatures found matching the expected signature/);
  } finally {
    await impostor.close();
    await close();
  }
});

Deno.test("a failed delivery is retried with backoff until the endpoint answers 2xx", async () => {
  const { sim, stripe, receiver, logs, close } = await startSimulatorWithReceiver();
  try {
    receiver.answerNext(500, 503);
    const customer = await stripe.customers.create({ email: "a@example.com" });
    await sim.settled();

    const [event] = sim.events();
    assert.deepEqual(
      sim.deliveryAttempts().map(({ attempt, ok, status }) => ({ attempt, ok, status })),
      [
        { attempt: 1, ok: false, status: 500 },
        { attempt: 2, ok: false, status: 503 },
        { attempt: 3, ok: true, status: 200 },
      ],
    );
    assert.equal(receiver.events.length, 3, "the same event, delivered three times");
    assert.ok(receiver.events.every((delivered) => delivered.id === event.id));
    assert.equal(
      (receiver.events[0].data.object as Stripe.Customer).id,
      customer.id,
    );
    const failed = logs.records("stripe_sim.webhook.failed");
    assert.deepEqual(failed.map((r) => [r.attempt, r.status, r.retry_in_ms]), [
      [1, 500, FAST_RETRIES[0]],
      [2, 503, FAST_RETRIES[1]],
    ]);
    const [delivered] = logs.records("stripe_sim.webhook.delivered");
    assert.equal(delivered.event_id, event.id);
    assert.equal(delivered.event_type, "customer.created");
    assert.equal(delivered.attempt, 3);
    assert.equal((await stripe.events.retrieve(event.id)).pending_webhooks, 0);
  } finally {
    await close();
  }
});

Deno.test("retries stop after the schedule; an unreachable endpoint is logged too", async () => {
  const { sim, stripe, receiver, logs, close } = await startSimulatorWithReceiver();
  try {
    receiver.answerNext(...Array(10).fill(500));
    await stripe.customers.create({ email: "a@example.com" });
    await sim.settled();
    const attempts = sim.deliveryAttempts();
    assert.equal(attempts.length, 1 + FAST_RETRIES.length);
    assert.ok(attempts.every((attempt) => !attempt.ok));
    const last = logs.records("stripe_sim.webhook.failed").at(-1)!;
    assert.equal(last.gave_up, true);
    assert.equal(last.retry_in_ms, undefined);
    const [event] = sim.events();
    assert.equal((await stripe.events.retrieve(event.id)).pending_webhooks, 1);

    const closedPort = await startWebhookReceiver(sim.webhookSecret);
    await closedPort.close();
    sim.setWebhookUrl(closedPort.url);
    await stripe.customers.create({ email: "b@example.com" });
    await sim.settled();
    const unreachable = logs.records("stripe_sim.webhook.failed").filter((r) =>
      r.url === closedPort.url
    );
    assert.equal(unreachable.length, 1 + FAST_RETRIES.length);
    assert.equal(unreachable[0].status, undefined);
    assert.equal(typeof unreachable[0].error, "string");
  } finally {
    await close();
  }
});

Deno.test("without an endpoint events are recorded but not sent", async () => {
  const { sim, stripe, close } = await startSimulatedStripe();
  try {
    const customer = await stripe.customers.create({ email: "a@example.com" });
    await sim.settled();
    assert.equal(sim.deliveryAttempts().length, 0);
    const [event] = sim.events();
    const fetched = await stripe.events.retrieve(event.id);
    assert.equal(fetched.type, "customer.created");
    assert.equal((fetched.data.object as Stripe.Customer).id, customer.id);
    assert.equal(fetched.pending_webhooks, 0);
    await assert.rejects(sim.redeliver(event.id), /No webhook endpoint is set/);
  } finally {
    await close();
  }
});

Deno.test("redelivering an event sends a duplicate with the same id and data", async () => {
  const { sim, stripe, receiver, close } = await startSimulatorWithReceiver();
  try {
    await subscribe(stripe, { price: sim.prices.monthly });
    await sim.settled();
    const [paid] = receiver.ofType("invoice.paid");
    await sim.redeliver(paid.id);
    await Promise.all([sim.redeliver(paid.id), sim.redeliver(paid.id)]);
    await sim.settled();
    const copies = receiver.ofType("invoice.paid");
    assert.equal(copies.length, 4);
    for (const copy of copies) {
      // Only pending_webhooks may differ: the first copy was acknowledged meanwhile.
      assert.deepEqual({ ...copy, pending_webhooks: null }, { ...paid, pending_webhooks: null });
    }
    await assert.rejects(sim.redeliver("evt_nope"), /No such event/);
  } finally {
    await close();
  }
});

Deno.test("held deliveries go out in the order a test chooses", async (t) => {
  const { sim, stripe, receiver, close } = await startSimulatorWithReceiver();
  try {
    sim.holdDeliveries();
    await subscribe(stripe, { price: sim.prices.monthly });
    await sim.settled();
    assert.equal(receiver.events.length, 0, "nothing leaves while held");
    const held = sim.heldEvents();
    assert.deepEqual(held.map((event) => event.type), [
      "customer.created",
      "customer.subscription.created",
      "invoice.paid",
      "checkout.session.completed",
    ]);

    await t.step("a chosen batch arrives in the chosen order", async () => {
      const byType = (type: string) => held.find((event) => event.type === type)!.id;
      await sim.deliverHeld([byType("checkout.session.completed"), byType("invoice.paid")]);
      assert.deepEqual(receiver.events.map((event) => event.type), [
        "checkout.session.completed",
        "invoice.paid",
      ]);
      assert.deepEqual(sim.heldEvents().map((event) => event.type), [
        "customer.created",
        "customer.subscription.created",
      ]);
      await assert.rejects(sim.deliverHeld([byType("invoice.paid")]), /is not being held/);
    });

    await t.step("resuming sends the rest, and new events flow again", async () => {
      await sim.resumeDeliveries();
      assert.deepEqual(receiver.events.slice(2).map((event) => event.type), [
        "customer.created",
        "customer.subscription.created",
      ]);
      await stripe.customers.create({ email: "later@example.com" });
      await sim.settled();
      assert.equal(receiver.events.at(-1)!.type, "customer.created");
      assert.equal(sim.heldEvents().length, 0);
      assert.deepEqual(receiver.rejected, []);
    });
  } finally {
    await close();
  }
});

Deno.test("closing the simulator cancels retries still waiting", async () => {
  const { sim, stripe, receiver, close } = await startSimulatorWithReceiver();
  const slow = await startSimulatedStripe({ retryDelaysMs: [60_000] });
  try {
    slow.sim.setWebhookUrl(receiver.url);
    receiver.answerNext(500);
    slow.sim.holdDeliveries();
    await slow.stripe.customers.create({ email: "a@example.com" });
    await slow.sim.deliverHeld(slow.sim.heldEvents().map((event) => event.id));
    // The first attempt failed; a retry a minute away must not keep close() waiting.
    await slow.close();
    assert.equal(slow.sim.deliveryAttempts().length, 1);
    await stripe.customers.create({ email: "b@example.com" });
    await sim.settled();
  } finally {
    await close();
  }
});
