import assert from "node:assert/strict";
import Stripe from "stripe";
import { createStripeClient } from "../../lib/stripe/client.ts";
import { startSimulatedStripe } from "../helpers/stripe.ts";

/** The SDK's error, with the fields the simulator must get right. */
async function stripeError(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof Stripe.errors.StripeError, String(error));
    return error;
  }
  throw new Error("expected the request to fail");
}

const CHECKOUT = {
  mode: "subscription",
  success_url: "https://site.test/done",
} as const;

Deno.test("customers and prices through the SDK", async (t) => {
  const { sim, stripe, close } = await startSimulatedStripe();
  try {
    await t.step("a customer is created and retrieved in Stripe's shape", async () => {
      const created = await stripe.customers.create({
        email: "reader@example.com",
        name: "A Reader",
        metadata: { user_id: "7" },
      });
      assert.match(created.id, /^cus_\w+$/);
      assert.equal(created.object, "customer");
      assert.equal(created.email, "reader@example.com");
      assert.equal(created.name, "A Reader");
      assert.deepEqual(created.metadata, { user_id: "7" });
      assert.equal(created.livemode, false);
      assert.equal(typeof created.created, "number");
      assert.match(created.lastResponse.requestId, /^req_\w+$/);
      const fetched = await stripe.customers.retrieve(created.id);
      assert.deepEqual({ ...fetched, lastResponse: null }, { ...created, lastResponse: null });
    });

    await t.step("the seeded prices: £7 a month and £70 a year", async () => {
      const monthly = await stripe.prices.retrieve(sim.prices.monthly);
      assert.equal(monthly.id, "price_sim_monthly");
      assert.equal(monthly.unit_amount, 700);
      assert.equal(monthly.currency, "gbp");
      assert.equal(monthly.type, "recurring");
      assert.equal(monthly.recurring?.interval, "month");
      assert.equal(monthly.active, true);
      const annual = await stripe.prices.retrieve(sim.prices.annual);
      assert.equal(annual.id, "price_sim_annual");
      assert.equal(annual.unit_amount, 7000);
      assert.equal(annual.recurring?.interval, "year");
    });
  } finally {
    await close();
  }
});

Deno.test("bad requests get Stripe's errors and change nothing", async (t) => {
  const { sim, stripe, close } = await startSimulatedStripe();
  try {
    await t.step("an unknown parameter", async () => {
      const error = await stripeError(
        stripe.customers.create({ email: "a@example.com", nickname: "x" } as never),
      );
      assert.ok(error instanceof Stripe.errors.StripeInvalidRequestError);
      assert.equal(error.statusCode, 400);
      assert.equal(error.message, "Received unknown parameter: nickname");
      assert.equal(error.param, "nickname");
      assert.equal(error.code, "parameter_unknown");
    });

    await t.step("an unknown nested parameter is named in bracket notation", async () => {
      const error = await stripeError(stripe.checkout.sessions.create({
        ...CHECKOUT,
        line_items: [{ price: sim.prices.monthly, quantity: 1, tax_rates: ["txr_1"] }],
      }));
      assert.equal(error.param, "line_items[0][tax_rates]");
      assert.equal(error.code, "parameter_unknown");
    });

    await t.step("a missing required parameter", async () => {
      const error = await stripeError(stripe.checkout.sessions.create({
        mode: "subscription",
        line_items: [{ price: sim.prices.monthly, quantity: 1 }],
      }));
      assert.equal(error.statusCode, 400);
      assert.equal(error.message, "Missing required param: success_url.");
      assert.equal(error.param, "success_url");
      assert.equal(error.code, "parameter_missing");
    });

    await t.step("an unknown price", async () => {
      const error = await stripeError(stripe.checkout.sessions.create({
        ...CHECKOUT,
        line_items: [{ price: "price_nope", quantity: 1 }],
      }));
      assert.ok(error instanceof Stripe.errors.StripeInvalidRequestError);
      assert.equal(error.statusCode, 400);
      assert.equal(error.message, "No such price: 'price_nope'");
      assert.equal(error.param, "line_items[0][price]");
      assert.equal(error.code, "resource_missing");
    });

    await t.step("an unknown customer for checkout", async () => {
      const error = await stripeError(stripe.checkout.sessions.create({
        ...CHECKOUT,
        customer: "cus_nope",
        line_items: [{ price: sim.prices.monthly, quantity: 1 }],
      }));
      assert.equal(error.statusCode, 400);
      assert.equal(error.param, "customer");
    });

    await t.step("invalid values name their parameter", async () => {
      const trial = await stripeError(stripe.checkout.sessions.create({
        ...CHECKOUT,
        line_items: [{ price: sim.prices.monthly, quantity: 1 }],
        subscription_data: { trial_period_days: 0 },
      }));
      assert.equal(trial.param, "subscription_data[trial_period_days]");
      const url = await stripeError(stripe.checkout.sessions.create({
        ...CHECKOUT,
        success_url: "not a url",
        line_items: [{ price: sim.prices.monthly, quantity: 1 }],
      }));
      assert.equal(url.param, "success_url");
      assert.equal(url.message, "Not a valid URL");
      const flag = await stripeError(stripe.checkout.sessions.create({
        ...CHECKOUT,
        allow_promotion_codes: "maybe" as never,
        line_items: [{ price: sim.prices.monthly, quantity: 1 }],
      }));
      assert.equal(flag.message, "Invalid boolean: maybe");
      assert.equal(flag.param, "allow_promotion_codes");
    });

    await t.step("modes and combinations the simulator does not sell", async () => {
      const payment = await stripeError(stripe.checkout.sessions.create({
        ...CHECKOUT,
        mode: "payment",
        line_items: [{ price: sim.prices.monthly, quantity: 1 }],
      }));
      assert.equal(payment.param, "mode");
      const both = await stripeError(stripe.checkout.sessions.create({
        ...CHECKOUT,
        customer: (await stripe.customers.create({})).id,
        customer_email: "a@example.com",
        line_items: [{ price: sim.prices.monthly, quantity: 1 }],
      }));
      assert.equal(
        both.message,
        "You may only specify one of these parameters: customer, customer_email.",
      );
    });

    await t.step("unknown ids in the path are 404 resource_missing", async () => {
      for (
        const [request, message] of [
          [stripe.customers.retrieve("cus_nope"), "No such customer: 'cus_nope'"],
          [stripe.prices.retrieve("price_nope"), "No such price: 'price_nope'"],
          [stripe.subscriptions.retrieve("sub_nope"), "No such subscription: 'sub_nope'"],
          [stripe.events.retrieve("evt_nope"), "No such event: 'evt_nope'"],
          [
            stripe.checkout.sessions.retrieve("cs_test_nope"),
            "No such checkout.session: 'cs_test_nope'",
          ],
        ] as const
      ) {
        const error = await stripeError(request);
        assert.ok(error instanceof Stripe.errors.StripeInvalidRequestError);
        assert.equal(error.statusCode, 404);
        assert.equal(error.message, message);
        assert.equal(error.code, "resource_missing");
        assert.equal(error.param, "id");
      }
    });

    await t.step("a property that cannot be expanded", async () => {
      const customer = await stripe.customers.create({});
      const error = await stripeError(
        stripe.customers.retrieve(customer.id, { expand: ["sources"] }),
      );
      assert.equal(error.message, "This property cannot be expanded (sources).");
    });

    await t.step("nothing was created by any of them", () => {
      // Only the two customers the steps above created on purpose.
      assert.deepEqual(sim.events().map((event) => event.type), [
        "customer.created",
        "customer.created",
      ]);
    });
  } finally {
    await close();
  }
});

Deno.test("the API key is required and must be the simulator's", async () => {
  const { sim, close } = await startSimulatedStripe();
  try {
    const wrong = createStripeClient({ apiKey: "sk_test_wrongkey1234", apiBase: sim.url });
    const error = await stripeError(wrong.customers.create({}));
    assert.ok(error instanceof Stripe.errors.StripeAuthenticationError);
    assert.equal(error.statusCode, 401);
    assert.equal(error.message, "Invalid API Key provided: sk_test_****1234");

    const anonymous = await fetch(`${sim.url}/v1/customers`, { method: "POST" });
    assert.equal(anonymous.status, 401);
    const body = await anonymous.json();
    assert.equal(body.error.type, "invalid_request_error");
    assert.match(body.error.message, /^You did not provide an API key/);

    const basic = await fetch(`${sim.url}/v1/prices/${sim.prices.monthly}`, {
      headers: { authorization: `Basic ${btoa(`${sim.apiKey}:`)}` },
    });
    assert.equal(basic.status, 200, "curl -u sk_…: works as at Stripe");
    await basic.body?.cancel();
    assert.equal(sim.events().length, 0);
  } finally {
    await close();
  }
});

Deno.test("raw HTTP: Stripe's error body, form encoding, unknown URLs, API version", async () => {
  const { sim, close } = await startSimulatedStripe();
  const auth = { authorization: `Bearer ${sim.apiKey}` };
  try {
    const unknown = await fetch(`${sim.url}/v1/customers`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/x-www-form-urlencoded" },
      body: "email=a%40example.com&colour=blue",
    });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.headers.get("content-type"), "application/json");
    assert.deepEqual(await unknown.json(), {
      error: {
        type: "invalid_request_error",
        message: "Received unknown parameter: colour",
        param: "colour",
        code: "parameter_unknown",
      },
    });

    const json = await fetch(`${sim.url}/v1/customers`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ email: "a@example.com" }),
    });
    assert.equal(json.status, 400);
    assert.match((await json.json()).error.message, /unsupported Content-Type application\/json/);

    const nowhere = await fetch(`${sim.url}/v1/charges`, { headers: auth });
    assert.equal(nowhere.status, 404);
    assert.match((await nowhere.json()).error.message, /^Unrecognized request URL \(GET: /);

    const otherVersion = await fetch(`${sim.url}/v1/prices/${sim.prices.monthly}`, {
      headers: { ...auth, "stripe-version": "2020-08-27" },
    });
    assert.equal(otherVersion.status, 400);
    assert.equal((await otherVersion.json()).error.param, "Stripe-Version");
    assert.equal(sim.events().length, 0);
  } finally {
    await close();
  }
});

Deno.test("idempotency keys work as at Stripe", async (t) => {
  const { sim, stripe, close } = await startSimulatedStripe();
  const customersCreated = () =>
    sim.events().filter((event) => event.type === "customer.created").length;
  try {
    await t.step("the same key and parameters replay the first answer", async () => {
      const first = await stripe.customers.create({ email: "once@example.com" }, {
        idempotencyKey: "user-1-customer",
      });
      const again = await stripe.customers.create({ email: "once@example.com" }, {
        idempotencyKey: "user-1-customer",
      });
      assert.equal(again.id, first.id);
      const raw = await fetch(`${sim.url}/v1/customers`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${sim.apiKey}`,
          "content-type": "application/x-www-form-urlencoded",
          "idempotency-key": "user-1-customer",
        },
        body: "email=once%40example.com",
      });
      assert.equal(raw.headers.get("idempotent-replayed"), "true");
      assert.equal((await raw.json()).id, first.id);
      assert.equal(customersCreated(), 1);
      const [event] = sim.events();
      assert.equal(event.request.idempotency_key, "user-1-customer");
      assert.equal(event.request.id, first.lastResponse.requestId);
    });

    await t.step("concurrent requests with one key create one customer", async () => {
      const created = await Promise.all(
        Array.from({ length: 8 }, () =>
          stripe.customers.create({ email: "race@example.com" }, {
            idempotencyKey: "user-2-customer",
          })),
      );
      assert.equal(new Set(created.map((customer) => customer.id)).size, 1);
      assert.equal(customersCreated(), 2);
    });

    await t.step("the same key with other parameters is an idempotency error", async () => {
      const error = await stripeError(
        stripe.customers.create({ email: "other@example.com" }, {
          idempotencyKey: "user-1-customer",
        }),
      );
      assert.ok(error instanceof Stripe.errors.StripeIdempotencyError);
      assert.equal(error.statusCode, 400);
      assert.equal(error.type, "StripeIdempotencyError");
      assert.match(error.message, /Try using a key other than 'user-1-customer'/);
      assert.equal(customersCreated(), 2);
    });

    await t.step("a request that failed validation can be retried with its key", async () => {
      await stripeError(
        stripe.customers.create({ email: "not-an-address" }, { idempotencyKey: "retry-me" }),
      );
      const fixed = await stripe.customers.create({ email: "fixed@example.com" }, {
        idempotencyKey: "retry-me",
      });
      assert.equal(fixed.email, "fixed@example.com");
      assert.equal(customersCreated(), 3);
    });
  } finally {
    await close();
  }
});

Deno.test("idempotency keys are forgotten after 24 hours on the simulator's clock", async () => {
  let now = new Date("2026-03-01T09:00:00Z");
  const { stripe, close } = await startSimulatedStripe({ now: () => now });
  try {
    const first = await stripe.customers.create({ email: "a@example.com" }, {
      idempotencyKey: "daily",
    });
    now = new Date("2026-03-02T09:00:01Z");
    const second = await stripe.customers.create({ email: "b@example.com" }, {
      idempotencyKey: "daily",
    });
    assert.notEqual(second.id, first.id);
    assert.equal(second.created, Date.parse("2026-03-02T09:00:01Z") / 1000);
  } finally {
    await close();
  }
});
