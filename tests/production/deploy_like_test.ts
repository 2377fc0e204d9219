/**
 * Production as Deno Deploy would run it: built first, started from a copy of the project that
 * lacks every development-only part (simulator, embedded database, bundler), with network,
 * environment and read permissions only, on a real database, with Stripe reached over the
 * network (a Stripe-compatible server) and email sent over SMTP.
 */
import assert from "node:assert/strict";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { serverOnly } from "../helpers/needs.ts";
import { describeDatabaseUrl } from "../../lib/db/client.ts";
import { runDeno, waitUntil, within } from "../helpers/bounded.ts";
import { startSimulatedStripe } from "../helpers/stripe.ts";
import { startSmtpSink } from "../helpers/smtp.ts";
import { pressButton } from "../helpers/stripe.ts";
import { deployableCopy, type ProductionProcess, startProduction } from "../helpers/production.ts";
import { createUser } from "../helpers/users.ts";
import { signedHeaders, stripeEvent, subscriptionObject } from "../helpers/stripe_events.ts";
import { holdLock } from "../helpers/locks.ts";

const SITE_URL = "https://read.markets.test";
const ADMIN_TOKEN = "production-admin-token-0123456789abcdef";

/**
 * What both tests stand on: a deployable copy of the project, a database, Stripe over the network
 * and an SMTP server; `start()` runs the production entry against them, `close()` stops all.
 */
async function productionFixture(options: { migrate: boolean }) {
  const dir = await deployableCopy();
  const db = await createTestDatabase({ migrate: options.migrate });
  const { sim, close: closeStripe } = await startSimulatedStripe();
  const smtp = await startSmtpSink();
  const started: ProductionProcess[] = [];
  const env = (extra: Record<string, string> = {}) => ({
    APP_ENV: "production",
    PORT: "0",
    SITE_URL,
    DATABASE_URL: db.url,
    STRIPE_API_KEY: sim.apiKey,
    // The simulator's key is test-mode, as a staging deploy against Stripe's test mode would be.
    STRIPE_TEST_KEYS_ALLOWED: "true",
    STRIPE_API_BASE: sim.url,
    STRIPE_WEBHOOK_SECRET: sim.webhookSecret,
    STRIPE_PRICE_MONTHLY: sim.prices.monthly,
    STRIPE_PRICE_ANNUAL: sim.prices.annual,
    ADMIN_TOKEN,
    EMAIL_TRANSPORT: "smtp",
    SMTP_URL: smtp.url,
    ...extra,
  });
  return {
    db,
    sim,
    smtp,
    async start(extra: Record<string, string> = {}): Promise<ProductionProcess> {
      const app = await startProduction(dir, env(extra));
      started.push(app);
      return app;
    },
    async close() {
      await Promise.all(started.map((app) => app.kill()));
      await smtp.close();
      await closeStripe();
      await db.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("the production entry under Deploy-like permissions: sign-in → checkout → webhook → settings", async (t) => {
  const built = await runDeno(["run", "-A", "dev.ts", "build"]);
  assert.equal(built.code, 0, built.stderr);
  const fixture = await productionFixture({ migrate: false });
  const { db, sim, smtp } = fixture;
  try {
    await t.step("a database behind the code is refused with a clear message", async () => {
      const early = await fixture.start().then(() => null, (error) => error as Error);
      assert.ok(early, "it must not start");
      assert.match(early.message, /exited with 1/);
      assert.match(
        early.message,
        /the database is behind this code \(pending: 0001_accounts, .*\); run `deno task migrate`/,
      );
    });

    await t.step("the release step migrates", async () => {
      const migrated = await runDeno(["run", "-A", "tasks/migrate.ts"], {
        env: { DATABASE_URL: db.url },
      });
      assert.equal(migrated.code, 0, migrated.stderr);
      assert.match(migrated.stdout, /applied 0001_accounts, .*0004_subscription_price/);
      const check = await runDeno(["run", "-A", "tasks/migrate.ts", "--check"], {
        env: { DATABASE_URL: db.url },
      });
      assert.equal(check.code, 0);
    });

    const app = await fixture.start();
    sim.setWebhookUrl(`${app.url}/api/stripe/webhook`);
    // Behind its TLS proxy the site is https://read.markets.test; here we talk to it directly.
    const local = (link: string) => link.replace(SITE_URL, app.url);
    let cookie = "";

    await t.step("it serves pages, islands, static files and health", async () => {
      const [started] = app.logs.filter((l) => l.event === "app.started");
      assert.equal(
        started.stripe,
        new URL(sim.url).host,
        "Stripe over the network, no simulator inside",
      );
      assert.equal(started.database, describeDatabaseUrl(db.url), "the test's own database");
      const pricing = await fetch(`${app.url}/pricing`);
      const html = await pricing.text();
      assert.match(html, /£7 a month/);
      assert.match(pricing.headers.get("strict-transport-security") ?? "", /max-age=\d+/);
      const script = html.match(/<script type="module" src="([^"]+)"/)![1];
      const bundle = await fetch(`${app.url}${script}`);
      assert.equal(bundle.status, 200);
      assert.match(bundle.headers.get("cache-control")!, /immutable/);
      await bundle.body?.cancel();
      const css = await fetch(`${app.url}/styles.css`);
      assert.equal(css.status, 200);
      await css.body?.cancel();
      const health = await (await fetch(`${app.url}/healthz`)).json();
      assert.equal(health.status, "ok");
      assert.deepEqual(health.migrations.pending, []);
    });

    await t.step("sign-in by a link sent over SMTP; the session cookie is Secure", async () => {
      const asked = await fetch(`${app.url}/api/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: "prod@example.com", next: "/settings" }),
      });
      assert.equal(asked.status, 202);
      await asked.body?.cancel();
      const body = smtp.messages.at(-1)!.data.replaceAll("=\r\n", "").replaceAll("=3D", "=");
      const link = body.match(/https:\/\/read\.markets\.test\/auth\/verify\?token=[\w-]+/)![0];
      const shown = await fetch(local(link));
      assert.equal(shown.status, 200);
      assert.match(await shown.text(), /Continue signing in/);
      const verified = await fetch(`${app.url}/auth/verify`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: app.url },
        body: new URLSearchParams({ token: new URL(link).searchParams.get("token")! }),
        redirect: "manual",
      });
      assert.equal(verified.status, 303);
      assert.equal(verified.headers.get("location"), "/settings");
      const setCookie = verified.headers.getSetCookie().find((c) => c.startsWith("rm_session="))!;
      assert.match(setCookie, /; Secure/);
      cookie = setCookie.split(";")[0];
      assert.ok(
        !app.logs.some((l) => JSON.stringify(l).includes("token=")),
        "no token in the logs",
      );
    });

    await t.step(
      "checkout, payment on Stripe, the signed webhook, and settings show Paid",
      async () => {
        const checkout = await fetch(`${app.url}/api/stripe/checkout`, {
          method: "POST",
          headers: { cookie, origin: app.url, "content-type": "application/json" },
          body: JSON.stringify({ cadence: "monthly", reg36Waiver: true }),
        });
        assert.equal(checkout.status, 200);
        const { url } = await checkout.json();
        const paid = await pressButton(url, "Pay");
        assert.equal(paid.location, `${SITE_URL}/settings?upgraded=1`);
        await sim.settled();
        const settings =
          await (await fetch(`${app.url}/settings?upgraded=1`, { headers: { cookie } })).text();
        assert.match(settings, /data-testid="plan">Paid \(monthly\)</);
        const portal = await fetch(`${app.url}/api/stripe/portal`, {
          method: "POST",
          headers: { cookie, origin: app.url },
        });
        assert.equal(portal.status, 200);
        assert.ok((await portal.json()).url.startsWith(sim.url));
        const admin = await fetch(`${app.url}/api/auth/me`, {
          headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        });
        assert.deepEqual(await admin.json(), { kind: "admin" });
      },
    );

    await t.step("every log line of a request carries its id", () => {
      const requestLines = app.logs.filter((l) => l.event === "http.request");
      assert.ok(requestLines.length > 5);
      assert.ok(requestLines.every((l) => typeof l.request_id === "string"));
      const webhookLines = app.logs.filter((l) => String(l.event).startsWith("stripe."));
      assert.ok(
        webhookLines.length > 0 && webhookLines.every((l) => typeof l.request_id === "string"),
      );
    });

    await t.step({
      ...serverOnly(
        "SIGTERM during a webhook: the delivery completes, then the process exits",
        "a row lock held from a second connection",
      ),
      fn: async () => {
        const stuck = await webhookStuckInsideItsTransaction(db, app.url, sim.webhookSecret);
        app.signal("SIGTERM");
        await waitUntil(
          "the app to log app.stopping",
          () => app.logs.some((l) => l.event === "app.stopping"),
        );
        await stuck.release();
        const answer = await stuck.delivery;
        assert.equal(answer.status, 200);
        assert.deepEqual(answer.body, { status: "ok" });
        assert.equal(await app.exited, 0);
        const [row] = await db
          .sql`select processed_at from stripe_events where event_id = ${stuck.event.id}`;
        assert.ok(row.processedAt, "applied in full");
        assert.ok(app.logs.some((l) => l.event === "app.stopped" && l.drained === true));
      },
    });
  } finally {
    await fixture.close();
  }
});

Deno.test({
  ...serverOnly(
    "SIGTERM while a webhook is stuck past the grace period: it fails cleanly, nothing partial",
    "a row lock held from a second connection",
  ),
  fn: async () => {
    const fixture = await productionFixture({ migrate: true });
    const { db, sim } = fixture;
    try {
      const app = await fixture.start({ SHUTDOWN_GRACE_SECONDS: "1" });
      const stuck = await webhookStuckInsideItsTransaction(db, app.url, sim.webhookSecret);
      app.signal("SIGTERM");
      assert.equal(await app.exited, 0);
      await stuck.release();
      const { status } = await stuck.delivery;
      assert.ok(
        status === "connection closed" || (typeof status === "number" && status >= 500),
        `got ${status}`,
      );
      const rows = await db.sql`select 1 from stripe_events where event_id = ${stuck.event.id}`;
      assert.equal(rows.length, 0, "no audit row: Stripe will deliver it again");
      const [person] = await db.sql`select tier from users where id = ${stuck.user.id}`;
      assert.equal(person.tier, "free");
      assert.ok(app.logs.some((l) => l.event === "app.shutdown_grace_exceeded"));
    } finally {
      await fixture.close();
    }
  },
});

/**
 * A signed webhook delivery that waits inside its transaction: the test holds the person's row
 * lock until `release()`, so the request is in flight for as long as the test needs.
 */
async function webhookStuckInsideItsTransaction(db: TestDatabase, appUrl: string, secret: string) {
  const user = await createUser(db.sql);
  const lock = await holdLock(db.sql, "select id from users where id = $1 for update", [user.id]);
  const event = stripeEvent(
    "customer.subscription.created",
    subscriptionObject(`sub_${user.id}`, user.stripeCustomerId!, "active"),
  );
  const body = JSON.stringify(event);
  // Settled at once, so a connection cut during shutdown is an answer, not an unhandled error.
  const delivery = within(
    30_000,
    "the stuck webhook's answer",
    fetch(`${appUrl}/api/stripe/webhook`, {
      method: "POST",
      headers: await signedHeaders(body, { secret }),
      body,
    }).then(
      async (response) => ({ status: response.status, body: await response.json() }),
      () => ({ status: "connection closed" as const, body: null }),
    ),
  );
  await lock.waiter();
  return { user, event, delivery, release: () => lock.release() };
}
