/**
 * `/pricing` while Stripe accepts connections and never answers: the page still answers within a
 * few seconds, with the last good prices when it has them; concurrent and later requests during
 * the outage do not call Stripe again until the failure has been remembered for its window; and a
 * recovered Stripe is used again after that.
 */
import assert from "node:assert/strict";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { within } from "../helpers/bounded.ts";
import { testClock } from "../helpers/clock.ts";
import { startOutageFront } from "../helpers/outage_front.ts";
import { startSimulatedStripe } from "../helpers/stripe.ts";
import { startStuckServer } from "../helpers/stuck_server.ts";
import { createStripeClient } from "../../lib/stripe/client.ts";
import {
  PRICE_CACHE_MS,
  PRICE_FAILURE_CACHE_MS,
  STALE_PRICES_MAX_AGE_MS,
} from "../../lib/billing/prices.ts";

/**
 * The behavioural bound: well past the price fetch's own 3 s (`PRICE_FETCH_TIMEOUT_MS`), far
 * short of the ~21 s an SDK call may take with its usual timeout and retry.
 */
const PAGE_BOUND_MS = 8_000;
const UNAVAILABLE = /Plans cannot be bought right now/;

/** GET /pricing, failing the test if it takes longer than `PAGE_BOUND_MS`. */
async function pricing(app: TestApp): Promise<string> {
  return await within(
    PAGE_BOUND_MS,
    "/pricing while Stripe hangs",
    (async () => {
      const response = await app.fetch("/pricing");
      assert.equal(response.status, 200);
      return await response.text();
    })(),
  );
}

function showsPrices(page: string) {
  assert.match(page, /£7 a month/);
  assert.match(page, /£70 a year/);
  assert.doesNotMatch(page, UNAVAILABLE);
}

Deno.test("no prices cached and Stripe hangs: /pricing says so within seconds, asking Stripe once per window", async () => {
  const stuck = startStuckServer();
  const clock = testClock();
  // The production client's own timeout (10 s) and retry: the price fetch must not wait on them.
  const stripe = createStripeClient({ apiKey: "sk_test_stuck", apiBase: stuck.url });
  const app = await createTestApp({
    env: { STRIPE_PRICE_MONTHLY: "price_monthly_test", STRIPE_PRICE_ANNUAL: "price_annual_test" },
    stripe,
    now: clock.now,
  });
  try {
    const pages = await Promise.all([1, 2, 3, 4].map(() => pricing(app)));
    for (const page of pages) assert.match(page, UNAVAILABLE);
    assert.equal(stuck.requests(), 2, "one fetch for four pages: each price once, no retry");
    assert.equal(app.logs.records("stripe.prices.fetch_failed").length, 1);

    clock.advance(PRICE_FAILURE_CACHE_MS - 1_000);
    assert.match(await pricing(app), UNAVAILABLE);
    assert.equal(stuck.requests(), 2, "within the failure window Stripe is not asked again");

    clock.advance(1_000);
    assert.match(await pricing(app), UNAVAILABLE);
    assert.equal(stuck.requests(), 4, "after it, Stripe is asked again");
    assert.equal(app.logs.records("stripe.prices.fetch_failed").length, 2);
    assert.equal(app.logs.records("stripe.prices.stale").length, 0, "nothing stale to show");
  } finally {
    await app.close();
    stuck.close();
  }
});

Deno.test("prices cached, then Stripe hangs: the last good prices, for at most a day, and recovery", async (t) => {
  const simulated = await startSimulatedStripe();
  const front = await startOutageFront(simulated.sim.url);
  const clock = testClock();
  const app = await createTestApp({
    env: {
      STRIPE_PRICE_MONTHLY: simulated.sim.prices.monthly,
      STRIPE_PRICE_ANNUAL: simulated.sim.prices.annual,
    },
    stripe: createStripeClient({ apiKey: simulated.sim.apiKey, apiBase: front.url }),
    now: clock.now,
  });
  const staleAges = () => app.logs.records("stripe.prices.stale").map((r) => r.age_seconds);
  try {
    await t.step("Stripe answering: its prices, fetched once", async () => {
      showsPrices(await pricing(app));
      showsPrices(await pricing(app));
      assert.equal(front.requests(), 2);
    });

    await t.step(
      "Stripe hangs after the cache's five minutes: the last good prices, logged stale",
      async () => {
        front.hang();
        clock.advance(PRICE_CACHE_MS);
        showsPrices(await pricing(app));
        assert.equal(front.requests(), 4, "one fetch of both prices, no retry");
        assert.deepEqual(staleAges(), [PRICE_CACHE_MS / 1000]);
        assert.equal(app.logs.records("stripe.prices.fetch_failed").length, 1);
      },
    );

    await t.step(
      "more pages during the outage: no call to Stripe, no more stale lines",
      async () => {
        clock.advance(10_000);
        const pages = await Promise.all([1, 2, 3].map(() => pricing(app)));
        pages.forEach(showsPrices);
        assert.equal(front.requests(), 4);
        assert.equal(staleAges().length, 1, "logged once per failed fetch, not per page");
      },
    );

    await t.step("Stripe recovers: used again once the failure window has passed", async () => {
      front.recover();
      clock.advance(PRICE_FAILURE_CACHE_MS - 10_000 - 1_000);
      showsPrices(await pricing(app));
      assert.equal(front.requests(), 4, "the failure is still remembered");
      clock.advance(1_000);
      showsPrices(await pricing(app));
      assert.equal(front.requests(), 6, "the window has passed: Stripe is asked and answers");
      assert.equal(staleAges().length, 1);
      assert.equal(app.logs.records("stripe.prices.fetch_failed").length, 1);
    });

    await t.step(
      "a later outage: prices from the recovery are shown until they are a day old",
      async () => {
        front.hang();
        // A day after the first fetch, but not after the recovery's: the recovery refreshed them.
        clock.advance(STALE_PRICES_MAX_AGE_MS - 60_000);
        showsPrices(await pricing(app));
        assert.equal(front.requests(), 8);
        assert.deepEqual(staleAges().at(-1), (STALE_PRICES_MAX_AGE_MS - 60_000) / 1000);

        clock.advance(2 * 60_000);
        assert.match(await pricing(app), UNAVAILABLE, "over a day old: not shown");
        assert.equal(front.requests(), 10);
        assert.equal(staleAges().length, 2, "nothing stale was shown for that fetch");
      },
    );
  } finally {
    await app.close();
    await front.close();
    await simulated.close();
  }
});
