/**
 * One account cannot flood Stripe with sessions: Checkout attempts and portal sessions are
 * limited per person (429 with Retry-After), and going back and forth reuses the open session.
 */
import assert from "node:assert/strict";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { sessionHeaders, signIn } from "../helpers/auth.ts";

function post(app: TestApp, path: string, cookie: string, body?: unknown) {
  return app.fetch(path, {
    method: "POST",
    headers: sessionHeaders(cookie),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function sessionsOf(app: TestApp, email: string) {
  const [user] = await app.db.sql`select stripe_customer_id from users where email = ${email}`;
  const list = await app.stripe!.checkout.sessions.list({
    customer: user.stripeCustomerId,
    limit: 100,
  });
  return list.data;
}

Deno.test("60 checkouts at once from one account make at most the allowed sessions", async () => {
  const app = await createTestApp({ payments: "simulator" });
  try {
    const { cookie } = await signIn(app, "flood@example.com");
    const answers = await Promise.all(
      Array.from(
        { length: 60 },
        () =>
          post(app, "/api/stripe/checkout", cookie, { cadence: "monthly", reg36Waiver: true })
            .then(async (r) => ({
              status: r.status,
              retryAfter: r.headers.get("retry-after"),
              body: await r.json(),
            })),
      ),
    );
    const allowed = answers.filter((a) => a.status === 200);
    const limited = answers.filter((a) => a.status === 429);
    assert.equal(allowed.length + limited.length, 60, JSON.stringify(answers.map((a) => a.status)));
    assert.equal(allowed.length, 10, "BILLING_SESSIONS_PER_PERSON's default");
    assert.equal(limited.length, 60 - allowed.length);
    for (const refused of limited) {
      assert.equal(refused.body.error, "rate_limited");
      assert.match(
        refused.body.message,
        /Too many checkout attempts; please try again in 15 minutes/,
      );
      assert.ok(Number(refused.retryAfter) > 0 && Number(refused.retryAfter) <= 15 * 60);
    }
    const sessions = await sessionsOf(app, "flood@example.com");
    assert.ok(
      sessions.length <= app.config.billingSessionsPerPerson,
      `${sessions.length} Stripe sessions`,
    );
    assert.ok(sessions.filter((s) => s.status === "open").length >= 1);
    const [{ count }] = await app.db.sql`select count(*)::int from consents`;
    assert.ok(count <= app.config.billingSessionsPerPerson, `${count} consent rows`);
  } finally {
    await app.close();
  }
});

Deno.test("going back to checkout reuses the open session for the same plan", async () => {
  const app = await createTestApp({ payments: "simulator" });
  try {
    const { cookie } = await signIn(app, "undecided@example.com");
    const buy = async (cadence: "monthly" | "annual") => {
      const response = await post(app, "/api/stripe/checkout", cookie, {
        cadence,
        reg36Waiver: cadence === "monthly",
      });
      assert.equal(response.status, 200);
      return (await response.json()).url as string;
    };
    const first = await buy("monthly");
    assert.equal(await buy("monthly"), first, "the same session again");
    assert.equal(await buy("monthly"), first);
    const [{ count }] = await app.db.sql`select count(*)::int from consents`;
    assert.equal(count, 1, "its waiver evidence is already recorded");
    assert.equal((await sessionsOf(app, "undecided@example.com")).length, 1);

    // Another plan is another session, and the first can no longer be paid.
    const annual = await buy("annual");
    assert.notEqual(annual, first);
    const sessions = await sessionsOf(app, "undecided@example.com");
    const byUrl = new Map(sessions.map((s) => [s.id, s.status]));
    assert.equal(byUrl.get(first.split("/").pop()!), "expired");
    assert.equal(byUrl.get(annual.split("/").pop()!), "open");
    assert.equal(await buy("annual"), annual);
    assert.equal(app.logs.records("stripe.checkout.reused").length, 3);
  } finally {
    await app.close();
  }
});

Deno.test("portal sessions are limited per person, with Retry-After", async () => {
  const app = await createTestApp({ payments: "simulator" });
  try {
    const { cookie } = await signIn(app, "portal@example.com");
    const checkout = await post(app, "/api/stripe/checkout", cookie, {
      cadence: "annual",
      reg36Waiver: false,
    });
    await checkout.body?.cancel();
    const statuses = [];
    for (let i = 0; i < app.config.billingSessionsPerPerson; i++) {
      const opened = await post(app, "/api/stripe/portal", cookie);
      statuses.push(opened.status);
      await opened.body?.cancel();
    }
    assert.ok(statuses.every((s) => s === 200), JSON.stringify(statuses));
    const refused = await post(app, "/api/stripe/portal", cookie);
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers.get("retry-after")) > 0);
    assert.match((await refused.json()).message, /Too many billing portal requests/);

    // The card link in emails and banners is the same portal, and says so in a page.
    const card = await app.fetch("/billing/card", { headers: { cookie } });
    assert.equal(card.status, 429);
    assert.ok(Number(card.headers.get("retry-after")) > 0);
    assert.match(await card.text(), /Too many billing portal requests/);

    // Someone else is not affected.
    const other = await signIn(app, "other@example.com");
    const theirs = await post(app, "/api/stripe/checkout", other.cookie, {
      cadence: "annual",
      reg36Waiver: false,
    });
    await theirs.body?.cancel();
    const open = await post(app, "/api/stripe/portal", other.cookie);
    assert.equal(open.status, 200);
    await open.body?.cancel();
  } finally {
    await app.close();
  }
});
