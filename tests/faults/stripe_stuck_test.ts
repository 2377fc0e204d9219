/**
 * Stripe accepting connections and never answering: requests that need it give up with a 502
 * after the client's timeout and retries, and while they wait they hold nothing the rest of the
 * app needs.
 */
import assert from "node:assert/strict";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { sessionHeaders, signIn } from "../helpers/auth.ts";
import { createTestDatabase } from "../helpers/db.ts";
import { startStuckServer } from "../helpers/stuck_server.ts";
import {
  deliverOk,
  stripeEvent,
  subscriptionObject,
  WEBHOOK_SECRET,
} from "../helpers/stripe_events.ts";
import { createStripeClient, stripeCallWorstCaseMs } from "../../lib/stripe/client.ts";

const env = {
  STRIPE_PRICE_MONTHLY: "price_monthly_test",
  STRIPE_PRICE_ANNUAL: "price_annual_test",
  STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
};

function post(app: TestApp, path: string, cookie: string, body: unknown) {
  return app.fetch(path, {
    method: "POST",
    headers: sessionHeaders(cookie),
    body: JSON.stringify(body),
  });
}

async function signInWithCustomer(app: TestApp, email: string, customer: string) {
  const { cookie } = await signIn(app, email);
  await app.db.sql`update users set stripe_customer_id = ${customer} where email = ${email}`;
  return cookie;
}

Deno.test("a Stripe that never answers: checkout and portal give up with 502 after timeout and retry", async () => {
  const stuck = startStuckServer();
  const stripe = createStripeClient({
    apiKey: "sk_test_stuck",
    apiBase: stuck.url,
    timeoutMs: 300,
    maxNetworkRetries: 1,
  });
  const app = await createTestApp({ env, stripe });
  try {
    const { cookie } = await signIn(app, "waiting@example.com");
    const monthly = { cadence: "monthly", reg36Waiver: true };

    const first = await post(app, "/api/stripe/checkout", cookie, monthly);
    assert.equal(first.status, 502);
    assert.deepEqual(await first.json(), {
      error: "stripe_unavailable",
      message: "The payment provider did not answer in time; please try again",
    });
    assert.equal(stuck.requests(), 2, "creating the customer: one attempt and one retry");

    await app.db.sql`update users set stripe_customer_id = 'cus_known'`;
    const second = await post(app, "/api/stripe/checkout", cookie, monthly);
    assert.equal(second.status, 502);
    await second.body?.cancel();
    assert.equal(stuck.requests(), 4, "creating the Checkout session: the same");

    const portal = await post(app, "/api/stripe/portal", cookie, {});
    assert.equal(portal.status, 502);
    assert.equal((await portal.json()).error, "stripe_unavailable");

    const [{ consents }] = await app.db.sql`select count(*)::int as consents from consents`;
    assert.equal(consents, 0, "no waiver evidence for a checkout that never started");
    assert.equal(app.logs.records("stripe.checkout.create_failed").length, 2);
  } finally {
    await app.close();
    stuck.close();
  }
});

Deno.test("the production Stripe client gives up within 30 seconds per call", () => {
  assert.ok(stripeCallWorstCaseMs() < 30_000, `${stripeCallWorstCaseMs()} ms`);
  assert.equal(stripeCallWorstCaseMs(300, 1), 2 * 300 + 500);
  assert.equal(stripeCallWorstCaseMs(1_000, 3), 4 * 1_000 + 500 + 1_000 + 2_000);
});

Deno.test("checkouts waiting on a stuck Stripe hold no database connection", async () => {
  const stuck = startStuckServer();
  // Longer than the health check's own 3 s wait for the database, so a held pool would show.
  const stripe = createStripeClient({
    apiKey: "sk_test_stuck",
    apiBase: stuck.url,
    timeoutMs: 5_000,
    maxNetworkRetries: 0,
  });
  const db = await createTestDatabase({ poolSize: 2 });
  const app = await createTestApp({ env, stripe, db });
  try {
    const cookies = [
      await signInWithCustomer(app, "one@example.com", "cus_one"),
      await signInWithCustomer(app, "two@example.com", "cus_two"),
    ];
    let checkoutsSettled = false;
    const checkouts = Promise.all(
      cookies.map((cookie) =>
        post(app, "/api/stripe/checkout", cookie, { cadence: "annual", reg36Waiver: false })
      ),
    ).finally(() => checkoutsSettled = true);
    await stuck.received(2);

    const health = await app.fetch("/healthz");
    assert.equal(health.status, 200, JSON.stringify(await health.json()));
    const event = stripeEvent(
      "customer.subscription.created",
      subscriptionObject("sub_meanwhile", "cus_one", "active"),
    );
    assert.equal(await deliverOk(app, event), "ok", "webhooks are processed meanwhile");
    assert.equal(checkoutsSettled, false, "and both checkouts were still waiting on Stripe");

    stuck.close();
    for (const response of await checkouts) {
      assert.equal(response.status, 502);
      await response.body?.cancel();
    }
  } finally {
    stuck.close();
    await app.close();
    await db.close();
  }
});
