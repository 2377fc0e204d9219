import assert from "node:assert/strict";
import type Stripe from "stripe";
import {
  pressButton,
  startSimulatedStripe,
  startWebhookReceiver,
  subscribe,
} from "../helpers/stripe.ts";

/** Every visible control has a label or its own text. */
function assertLabelled(html: string): void {
  for (
    const [control, id] of html.matchAll(
      /<(?:input|select)(?![^>]*type="hidden")[^>]*id="([^"]+)"/g,
    )
  ) {
    assert.ok(html.includes(`<label for="${id}">`), `no label for ${control}`);
  }
  assert.doesNotMatch(html, /<(?:input|select)(?![^>]*type="hidden")(?![^>]*id=)[^>]*>/);
  for (const [button, text] of html.matchAll(/<button[^>]*>([^<]*)<\/button>/g)) {
    assert.ok(text.trim(), `a button without text: ${button}`);
  }
}

async function post(url: string, init: { origin?: string; json?: unknown; form?: string }) {
  const response = await fetch(url, {
    method: "POST",
    headers: {
      ...(init.origin ? { origin: init.origin } : {}),
      "content-type": init.json === undefined
        ? "application/x-www-form-urlencoded"
        : "application/json",
    },
    body: init.json === undefined ? init.form ?? "" : JSON.stringify(init.json),
    redirect: "manual",
  });
  return response;
}

Deno.test("hosted pages label every control", async () => {
  const { sim, stripe, close } = await startSimulatedStripe();
  try {
    const session = await stripe.checkout.sessions.create({
      mode: "subscription",
      line_items: [{ price: sim.prices.monthly, quantity: 1 }],
      success_url: "https://site.test/done",
      cancel_url: "https://site.test/pricing",
    });
    const checkout = await (await fetch(session.url!)).text();
    assert.match(checkout, /<html lang="en-GB">/);
    assertLabelled(checkout);

    const { subscription } = await subscribe(stripe, { price: sim.prices.annual, trialDays: 3 });
    const portal = await stripe.billingPortal.sessions.create({
      customer: subscription.customer as string,
    });
    const portalPage = await (await fetch(portal.url)).text();
    assertLabelled(portalPage);
    assert.match(portalPage, /Free trial/);
    assert.doesNotMatch(portalPage, /Return to site/, "no return_url, no link");

    const dashboard = await (await fetch(`${sim.url}/_sim`)).text();
    assertLabelled(dashboard);
    assert.match(dashboard, new RegExp(`aria-label="Redeliver evt_\\w+"`));

    const missing = await fetch(`${sim.url}/checkout/cs_test_nope`);
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
  } finally {
    await close();
  }
});

Deno.test("the pages' forms refuse posts from other sites", async () => {
  const { sim, stripe, close } = await startSimulatedStripe();
  try {
    const session = await stripe.checkout.sessions.create({
      mode: "subscription",
      line_items: [{ price: sim.prices.monthly, quantity: 1 }],
      customer_email: "a@example.com",
      success_url: "https://site.test/done",
    });
    for (const origin of [undefined, "https://evil.test"]) {
      const response = await post(`${session.url}/pay`, { origin });
      assert.equal(response.status, 403);
      await response.body?.cancel();
    }
    assert.equal(sim.events().length, 0);
    assert.equal((await stripe.checkout.sessions.retrieve(session.id)).status, "open");
  } finally {
    await close();
  }
});

Deno.test("/_sim starts a checkout through the simulator's own API", async () => {
  const { sim, close } = await startSimulatedStripe();
  try {
    const root = await fetch(sim.url, { redirect: "manual" });
    assert.equal(root.headers.get("location"), "/_sim");
    await root.body?.cancel();

    const started = await post(`${sim.url}/_sim/checkout`, {
      origin: sim.url,
      form: `price=${sim.prices.annual}&trial_days=14&email=demo%40example.com`,
    });
    assert.equal(started.status, 303);
    const location = started.headers.get("location")!;
    assert.match(location, new RegExp(`^${sim.url}/checkout/cs_test_\\w+$`));
    const page = await (await fetch(location)).text();
    assert.match(page, /Annual/);
    assert.match(page, /14 days/);
    assert.match(page, /Paying as demo@example\.com/);
    const { location: done } = await pressButton(location, "Pay");
    assert.equal(done, `${sim.url}/_sim`);

    const refused = await post(`${sim.url}/_sim/checkout`, {
      origin: sim.url,
      form: "price=price_nope",
    });
    assert.equal(refused.status, 400);
    assert.match(
      await refused.text(),
      /role="alert">No such price: &#39;price_nope&#39;|No such price/,
    );
  } finally {
    await close();
  }
});

Deno.test("/_sim controls over HTTP: JSON for scripts, redirects for the page's forms", async (t) => {
  const { sim, stripe, close } = await startSimulatedStripe();
  const receiver = await startWebhookReceiver(sim.webhookSecret);
  sim.setWebhookUrl(receiver.url);
  const control = (path: string, json: unknown = {}) => post(`${sim.url}/_sim${path}`, { json });
  try {
    const { subscription } = await subscribe(stripe, { price: sim.prices.monthly });
    await sim.settled();

    await t.step("advance, with an optional date", async () => {
      const response = await control(`/subscriptions/${subscription.id}/advance`);
      assert.equal(response.status, 200);
      const body = await response.json() as { subscription: Stripe.Subscription };
      assert.equal(
        body.subscription.items.data[0].current_period_start,
        subscription.items.data[0].current_period_end,
      );
      const to = new Date(sim.now().getTime() + 45 * 24 * 3600 * 1000);
      const dated = await control(`/subscriptions/${subscription.id}/advance`, {
        to: to.toISOString(),
      });
      assert.equal(dated.status, 200);
      await dated.body?.cancel();
      assert.ok(sim.now() >= to, "the clock moved to the date");
      const bad = await control(`/subscriptions/${subscription.id}/advance`, { to: "soon" });
      assert.equal(bad.status, 400);
      assert.equal((await bad.json()).error.type, "simulator_error");
    });

    await t.step("fail the next payment, from the page's form", async () => {
      const response = await post(
        `${sim.url}/_sim/subscriptions/${subscription.id}/fail_next_payment`,
        { origin: sim.url },
      );
      assert.equal(response.status, 303);
      assert.equal(response.headers.get("location"), "/_sim");
      await response.body?.cancel();
      await (await control(`/subscriptions/${subscription.id}/advance`)).body?.cancel();
      await sim.settled();
      assert.equal(receiver.ofType("invoice.payment_failed").length, 1);
    });

    await t.step("refund the last charge", async () => {
      const response = await control(`/subscriptions/${subscription.id}/refund_last_charge`);
      const { charge } = await response.json() as { charge: Stripe.Charge };
      assert.equal(charge.refunded, true);
      await sim.settled();
      assert.equal(receiver.ofType("charge.refunded").length, 1);
    });

    await t.step("hold, deliver in order, resume, redeliver", async () => {
      await (await control("/deliveries/hold")).body?.cancel();
      await stripe.customers.create({ email: "one@example.com" });
      await stripe.customers.create({ email: "two@example.com" });
      const [first, second] = sim.heldEvents();
      const delivered = await control("/deliveries/deliver", { event_ids: [second.id] });
      assert.equal(delivered.status, 200);
      await delivered.body?.cancel();
      assert.equal(receiver.events.at(-1)!.id, second.id);
      await (await control("/deliveries/resume")).body?.cancel();
      assert.equal(receiver.events.at(-1)!.id, first.id);
      await (await control(`/events/${first.id}/redeliver`)).body?.cancel();
      await sim.settled();
      assert.equal(receiver.events.filter((event) => event.id === first.id).length, 2);
    });

    await t.step("unknown ids are clear errors", async () => {
      const response = await control("/subscriptions/sub_nope/refund_last_charge");
      assert.equal(response.status, 400);
      assert.deepEqual(await response.json(), {
        error: { type: "simulator_error", message: "No such subscription: 'sub_nope'" },
      });
      const events = await control("/deliveries/deliver", { event_ids: [] });
      assert.equal(events.status, 400);
      await events.body?.cancel();
    });
  } finally {
    await close();
    await receiver.close();
  }
});
