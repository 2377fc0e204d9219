import assert from "node:assert/strict";
import manifest from "../../manifest.gen.ts";
import { type Config, parseConfig } from "../../lib/config.ts";
import { startApp } from "../../lib/start.ts";
import { openStripeBackend } from "../../lib/stripe/backend.ts";
import { createTestDatabase } from "../helpers/db.ts";
import { captureLog } from "../helpers/logs.ts";
import { pressButton } from "../helpers/stripe.ts";
import { startProduction } from "../helpers/production.ts";

function config(env: Record<string, string>): Config {
  const parsed = parseConfig(env);
  if (!parsed.ok) throw new Error(parsed.errors.join("; "));
  return parsed.config;
}

const PRODUCTION_ENV = {
  APP_ENV: "production",
  SITE_URL: "https://read.markets",
  STRIPE_API_KEY: "sk_live_production_like",
  STRIPE_WEBHOOK_SECRET: "whsec_production_like",
  STRIPE_PRICE_MONTHLY: "price_live_monthly",
  STRIPE_PRICE_ANNUAL: "price_live_annual",
  ADMIN_TOKEN: "a".repeat(40),
  EMAIL_TRANSPORT: "smtp",
  SMTP_URL: "smtp://127.0.0.1:2525",
};

Deno.test("without STRIPE_API_KEY the app runs on the simulator, and its webhooks reach the app", async (t) => {
  const db = await createTestDatabase({ migrate: false });
  const logs = captureLog();
  const app = await startApp(config({ DATABASE_URL: db.url, PORT: "0" }), logs.log, manifest);
  try {
    const sim = app.stripeSimulator!;

    await t.step("the start-up log names the simulator; its prices are the defaults", () => {
      const [started] = logs.records("app.started");
      assert.equal(started.stripe, `simulator at ${sim.url}`);
      assert.match(sim.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(app.config.stripe.priceMonthly, "price_sim_monthly");
      assert.equal(app.config.stripe.priceAnnual, "price_sim_annual");
      assert.equal(app.config.stripe.webhookSecret, sim.webhookSecret);
      assert.match(sim.webhookSecret, /^whsec_\w+$/);
    });

    await t.step("without SITE_URL, links point where the app listens (PORT=0 included)", () => {
      assert.match(app.url, /^http:\/\/localhost:[1-9]\d*$/);
      assert.equal(app.config.siteUrl, app.url);
      assert.equal(logs.records("app.started")[0].site_url, app.url);
    });

    await t.step(
      "a checkout through the app's client delivers to /api/stripe/webhook",
      async () => {
        const session = await app.stripe.checkout.sessions.create({
          mode: "subscription",
          line_items: [{ price: app.config.stripe.priceMonthly!, quantity: 1 }],
          customer_email: "dev@example.com",
          success_url: `${app.url}/`,
        });
        sim.holdDeliveries();
        await pressButton(session.url!, "Pay");
        const held = sim.heldEvents();
        assert.equal(held.length, 4);
        await sim.deliverHeld(held.map((event) => event.id));

        // Every delivery reaches the app's webhook, signed with the shared secret, and is applied.
        const port = new URL(app.url).port;
        const delivered = logs.records("stripe_sim.webhook.delivered");
        assert.equal(delivered.length, 4);
        for (const record of delivered) {
          assert.equal(record.url, `http://127.0.0.1:${port}/api/stripe/webhook`);
          assert.equal(record.status, 200);
        }
        assert.equal(logs.records("stripe_sim.webhook.failed").length, 0);
        const recorded = await db.sql`select event_id from stripe_events order by id`;
        assert.deepEqual(recorded.map((r) => r.eventId), held.map((event) => event.id));
      },
    );
  } finally {
    await app.shutdown();
    await db.close();
  }
});

Deno.test("a configured STRIPE_WEBHOOK_SECRET is the one the simulator signs with", async () => {
  const logs = captureLog();
  const backend = await openStripeBackend(
    config({ STRIPE_WEBHOOK_SECRET: "whsec_fromtheenvironment" }),
    logs.log,
    () => new Date(),
  );
  try {
    assert.equal(backend.simulator?.webhookSecret, "whsec_fromtheenvironment");
    assert.equal(backend.settings.webhookSecret, "whsec_fromtheenvironment");
  } finally {
    await backend.close();
  }
});

Deno.test("with STRIPE_API_KEY the SDK talks to Stripe or STRIPE_API_BASE, never the simulator", async () => {
  const logs = captureLog();
  const real = await openStripeBackend(
    config({ STRIPE_API_KEY: "sk_test_abc" }),
    logs.log,
    () => new Date(),
  );
  assert.equal(real.description, "api.stripe.com");
  assert.equal(real.simulator, null);
  assert.equal(real.settings.priceMonthly, null, "no simulator defaults for a real account");

  const other = await openStripeBackend(
    config({ STRIPE_API_KEY: "sk_test_abc", STRIPE_API_BASE: "http://localhost:12111" }),
    logs.log,
    () => new Date(),
  );
  assert.equal(other.description, "localhost:12111");
  assert.equal(other.simulator, null);
});

Deno.test("production without a key is refused even if config were bypassed", async () => {
  const production = config({ ...PRODUCTION_ENV, DATABASE_URL: "postgres://x@db/x" });
  const bypassed: Config = { ...production, stripe: { ...production.stripe, apiKey: null } };
  await assert.rejects(
    openStripeBackend(bypassed, captureLog().log, () => new Date()),
    /STRIPE_API_KEY is required in production; the Stripe simulator never runs there/,
  );
});

Deno.test("APP_ENV=production starts against the configured Stripe, not the simulator", async () => {
  // Production only checks migrations; applying them is the release step.
  const db = await createTestDatabase();
  const app = await startProduction(new URL("../../", import.meta.url).pathname, {
    ...PRODUCTION_ENV,
    DATABASE_URL: db.url,
    PORT: "0",
    // Nothing listens here; start-up makes no Stripe request, so it only shows in the log.
    STRIPE_API_BASE: "http://127.0.0.1:9",
  });
  try {
    const started = app.logs.find((line) => line.event === "app.started");
    assert.ok(started, JSON.stringify(app.logs));
    assert.equal(started.stripe, "127.0.0.1:9");
    assert.ok(!app.logs.some((line) => String(line.event).startsWith("stripe_sim.")));
  } finally {
    app.signal("SIGTERM");
    await app.exited;
    await db.close();
  }
});
