/**
 * Access follows the money, decided from every subscription a person has, whatever order their
 * events arrive in: trialing and active give access, past due keeps it for a bounded grace after
 * the first failure, unpaid, paused and incomplete give none, and credit gives it on its own.
 */
import assert from "node:assert/strict";
import { createTestApp } from "../helpers/app.ts";
import { DAY, testClock } from "../helpers/clock.ts";
import {
  deliver,
  deliverOk,
  stripeEvent,
  subscriptionObject,
  WEBHOOK_SECRET,
} from "../helpers/stripe_events.ts";
import { createUser, reload } from "../helpers/users.ts";
import { hasPaidAccess } from "../../lib/billing/entitlement.ts";
import { CANCEL_DUPLICATE_JOB } from "../../lib/billing/duplicates.ts";
import { createStripeClient } from "../../lib/stripe/client.ts";
import { createSession } from "../../lib/auth/sessions.ts";

const env = { STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, PAST_DUE_GRACE_DAYS: "14" };
const START = new Date("2027-03-01T09:00:00Z");
const seconds = (date: Date) => Math.floor(date.getTime() / 1000);

Deno.test("past due keeps access for the grace after the first failure, then not", async () => {
  const clock = testClock(START);
  const app = await createTestApp({ env, now: clock.now });
  try {
    const user = await createUser(app.db.sql);
    const c = user.stripeCustomerId!;
    const at = (days: number) => ({ created: seconds(START) + days * 86_400 });
    await deliverOk(
      app,
      stripeEvent("customer.subscription.created", subscriptionObject("sub_g", c, "active"), at(0)),
    );
    await deliverOk(
      app,
      stripeEvent(
        "customer.subscription.updated",
        subscriptionObject("sub_g", c, "past_due"),
        at(1),
      ),
    );
    // A later retry fails too: the episode still began with the first failure.
    await deliverOk(
      app,
      stripeEvent(
        "customer.subscription.updated",
        subscriptionObject("sub_g", c, "past_due", { cancel_at_period_end: false }),
        at(4),
      ),
    );
    const person = await reload(app.db.sql, user);
    const access = (at: Date) => hasPaidAccess(person, at, 14);
    assert.equal(access(new Date(START.getTime() + 14 * DAY)), true, "13 days into the episode");
    assert.equal(access(new Date(START.getTime() + 15 * DAY + 1)), false, "past the 14 days");

    const cookie = await session(app, user.id);
    const apiSays = async () =>
      (await (await app.fetch("/api/auth/me", { headers: { cookie } })).json()).paidAccess;
    clock.advance(4 * DAY);
    assert.equal(await apiSays(), true, "within the grace");
    clock.advance(12 * DAY);
    const me = await app.fetch("/settings", { headers: { cookie } });
    assert.match(await me.text(), /You&#39;re on the free plan|You're on the free plan/);
    assert.equal(await apiSays(), false, "the grace has ended");

    await deliverOk(
      app,
      stripeEvent(
        "customer.subscription.updated",
        subscriptionObject("sub_g", c, "active"),
        at(16),
      ),
    );
    const paid = await reload(app.db.sql, user);
    assert.equal(paid.stripePastDueSince, null, "paying ends the episode");
    assert.equal(hasPaidAccess(paid, clock.now(), 14), true);
  } finally {
    await app.close();
  }
});

Deno.test("unpaid, paused and incomplete give no access; credit does on its own", async () => {
  const app = await createTestApp({ env });
  try {
    for (const status of ["unpaid", "paused", "incomplete"]) {
      const user = await createUser(app.db.sql);
      const c = user.stripeCustomerId!;
      await deliverOk(
        app,
        stripeEvent(
          "customer.subscription.created",
          subscriptionObject(`sub_${status}`, c, "active"),
          {
            created: 1_800_000_000,
          },
        ),
      );
      await deliverOk(
        app,
        stripeEvent(
          "customer.subscription.updated",
          subscriptionObject(`sub_${status}`, c, status),
          {
            created: 1_800_000_100,
          },
        ),
      );
      const person = await reload(app.db.sql, user);
      assert.equal(person.tier, "free", status);
      assert.equal(person.stripeSubscriptionStatus, status);
      assert.equal(hasPaidAccess(person, new Date(), 14), false, status);
      const credited = { ...person, creditUntil: new Date(Date.now() + DAY) };
      assert.equal(hasPaidAccess(credited, new Date(), 14), true, `${status} with credit`);
    }
  } finally {
    await app.close();
  }
});

Deno.test("two live subscriptions: the newer is marked and its cancellation queued, once", async () => {
  const app = await createTestApp({ env });
  try {
    const user = await createUser(app.db.sql);
    const c = user.stripeCustomerId!;
    const older = subscriptionObject("sub_first", c, "active", { created: 1_800_000_000 });
    const newer = subscriptionObject("sub_second", c, "active", { created: 1_800_000_001 });
    // The newer one's event arrives first, and both are delivered twice.
    for (const [object, created] of [[newer, 1_800_000_010], [older, 1_800_000_020]] as const) {
      const event = stripeEvent("customer.subscription.created", object, { created });
      assert.equal(await deliverOk(app, event), "ok");
      assert.equal(await deliverOk(app, event), "duplicate");
    }
    await deliverOk(
      app,
      stripeEvent("customer.subscription.updated", { ...newer, cancel_at_period_end: false }, {
        created: 1_800_000_030,
      }),
    );
    const rows = await app.db.sql`
      select stripe_subscription_id, duplicate_of from subscriptions order by stripe_subscription_id`;
    assert.deepEqual(rows.map((r) => [r.stripeSubscriptionId, r.duplicateOf]), [
      ["sub_first", null],
      ["sub_second", "sub_first"],
    ]);
    const jobs = await app.db.sql`select kind, key, payload from jobs`;
    assert.deepEqual(jobs.map((j) => [j.kind, j.key]), [[CANCEL_DUPLICATE_JOB, "sub_second"]]);
    const person = await reload(app.db.sql, user);
    assert.equal(person.stripeSubscriptionId, "sub_first", "the one kept is the current one");
    assert.equal(person.tier, "paid");

    // Losing the kept one before the job ran: the other is the person's only one, and stays.
    await deliverOk(
      app,
      stripeEvent("customer.subscription.deleted", { ...older, status: "canceled" }, {
        created: 1_800_000_040,
      }),
    );
    const after = await reload(app.db.sql, user);
    assert.equal(after.stripeSubscriptionId, "sub_second", "losing one never hides another");
    assert.equal(after.tier, "paid");
  } finally {
    await app.close();
  }
});

Deno.test("customer.deleted forgets the customer and ends what it had", async () => {
  const app = await createTestApp({ env });
  try {
    const user = await createUser(app.db.sql);
    const c = user.stripeCustomerId!;
    await deliverOk(
      app,
      stripeEvent("customer.subscription.created", subscriptionObject("sub_del", c, "active"), {
        created: 1_800_000_000,
      }),
    );
    await deliverOk(
      app,
      stripeEvent("customer.deleted", { id: c, object: "customer", deleted: true }, {
        created: 1_800_000_100,
      }),
    );
    const person = await reload(app.db.sql, user);
    assert.equal(person.stripeCustomerId, null);
    assert.equal(person.stripeCustomerGeneration, user.stripeCustomerGeneration + 1);
    assert.equal(person.tier, "free");
    assert.equal(person.stripeSubscriptionId, null);
    const [row] = await app.db.sql`select status, ended_at from subscriptions`;
    assert.equal(row.status, "canceled");
    assert.ok(row.endedAt);
    // A late update about it changes nothing: it ended.
    await deliverOk(
      app,
      stripeEvent("customer.subscription.updated", subscriptionObject("sub_del", c, "active"), {
        created: 1_800_000_050,
      }),
    );
    assert.equal((await reload(app.db.sql, user)).tier, "free");
  } finally {
    await app.close();
  }
});

Deno.test("Stripe rate-limiting the webhook's own question: 5xx, nothing stored, applied on redelivery", async () => {
  let answerWith429 = true;
  let customerId = "";
  const limited = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    if (answerWith429) {
      return Response.json({
        error: { type: "invalid_request_error", code: "rate_limit", message: "Too many requests" },
      }, { status: 429 });
    }
    const id = new URL(request.url).pathname.split("/").pop()!;
    return Response.json(subscriptionObject(id, customerId, "active", { object: "subscription" }));
  });
  const stripe = createStripeClient({
    apiKey: "sk_test_limited",
    apiBase: `http://127.0.0.1:${limited.addr.port}`,
    maxNetworkRetries: 0,
  });
  const app = await createTestApp({ env, stripe });
  try {
    const user = await createUser(app.db.sql);
    customerId = user.stripeCustomerId!;
    const second = { created: 1_800_000_000 };
    await deliverOk(
      app,
      stripeEvent(
        "customer.subscription.created",
        subscriptionObject("sub_rl", customerId, "trialing"),
        second,
      ),
    );
    // Same second: the app asks Stripe, before its transaction, and Stripe says "slow down".
    const updated = stripeEvent(
      "customer.subscription.updated",
      subscriptionObject("sub_rl", customerId, "active"),
      second,
    );
    const refused = await deliver(app, updated);
    assert.ok(refused.status >= 500, `answered ${refused.status}`);
    await refused.body?.cancel();
    const rows = await app.db.sql`select 1 from stripe_events where event_id = ${updated.id}`;
    assert.equal(rows.length, 0, "nothing stored: Stripe delivers it again");

    answerWith429 = false;
    assert.equal(await deliverOk(app, updated), "ok", "the redelivery is applied");
    assert.equal((await reload(app.db.sql, user)).stripeSubscriptionStatus, "active");
  } finally {
    await app.close();
    await limited.shutdown();
  }
});

async function session(app: Awaited<ReturnType<typeof createTestApp>>, userId: number) {
  const token = await createSession(app.db.sql, userId, app.services.now());
  return `rm_session=${token}`;
}
