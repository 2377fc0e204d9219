import assert from "node:assert/strict";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import {
  checkoutSessionObject,
  deliverOk,
  signedHeaders,
  stripeEvent,
  subscriptionObject,
  WEBHOOK_SECRET,
} from "../helpers/stripe_events.ts";
import { createUser, reload } from "../helpers/users.ts";

const env = { STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET };

async function auditRows(app: TestApp) {
  return await app.db
    .sql`select event_id, event_type, processed_at, error, payload, payload_truncated from stripe_events order by id`;
}

Deno.test("webhook answers: every refusal has its status and stores nothing", async (t) => {
  const app = await createTestApp({ env });
  try {
    const body = JSON.stringify(
      stripeEvent("customer.subscription.updated", subscriptionObject("sub_1", "cus_1", "active")),
    );
    const post = (headers: HeadersInit, payload: BodyInit = body) =>
      app.fetch("/api/stripe/webhook", { method: "POST", headers, body: payload });

    await t.step("missing Stripe-Signature → 400", async () => {
      const response = await post({ "content-type": "application/json" });
      assert.equal(response.status, 400);
      assert.equal((await response.json()).error, "missing_signature");
    });

    await t.step("a signature made with another secret → 401", async () => {
      const response = await post(await signedHeaders(body, { secret: "whsec_someone_else" }));
      assert.equal(response.status, 401);
      assert.equal((await response.json()).error, "bad_signature");
    });

    await t.step("a valid signature over different bytes → 401", async () => {
      const response = await post(await signedHeaders(body), body.replace("active", "past_due"));
      assert.equal(response.status, 401);
      await response.body?.cancel();
    });

    await t.step("a timestamp outside 300 seconds → 401", async () => {
      for (const skew of [-301, 301]) {
        const timestamp = Math.floor(Date.now() / 1000) + skew;
        const response = await post(await signedHeaders(body, { timestamp }));
        assert.equal(response.status, 401, `skew ${skew}`);
        await response.body?.cancel();
      }
    });

    await t.step("a signed empty body → 400 saying so, not a bad signature", async () => {
      const response = await post(await signedHeaders(""), "");
      assert.equal(response.status, 400);
      assert.deepEqual(await response.json(), {
        error: "empty_body",
        message: "The request body is empty",
      });
    });

    await t.step("signed but not JSON → 400; signed JSON without an id → 400", async () => {
      const notJson = '{"id": "evt_1", truncated';
      const response = await post(await signedHeaders(notJson), notJson);
      assert.equal(response.status, 400);
      assert.equal((await response.json()).error, "invalid_payload");
      const noId = JSON.stringify({ ...JSON.parse(body), id: "" });
      const missing = await post(await signedHeaders(noId), noId);
      assert.equal(missing.status, 400);
      assert.match((await missing.json()).message, /id has no id/);
    });

    await t.step("signed, but an id or type with control characters → 400", async () => {
      const event = JSON.parse(body);
      for (
        const broken of [
          { ...event, id: "evt_with_\u0000_nul" },
          { ...event, id: "evt_line\nbreak" },
          { ...event, type: "invoice.paid\u0000" },
          { ...event, type: "customer.subscription.updated\r\n" },
        ]
      ) {
        const payload = JSON.stringify(broken);
        const response = await post(await signedHeaders(payload), payload);
        assert.equal(response.status, 400, payload);
        assert.deepEqual(await response.json(), {
          error: "invalid_event",
          message: `The event ${broken.id === event.id ? "type" : "id"} has control characters`,
        });
      }
    });

    await t.step("a body over 1 MiB → 413, before it is read", async () => {
      const huge = "x".repeat(1024 * 1024 + 1);
      const response = await post({
        "content-type": "application/json",
        "stripe-signature": "t=1,v1=x",
      }, huge);
      assert.equal(response.status, 413);
      await response.body?.cancel();
    });

    assert.equal((await auditRows(app)).length, 0, "nothing was recorded for any refused delivery");
  } finally {
    await app.close();
  }

  const unconfigured = await createTestApp();
  try {
    const response = await unconfigured.fetch("/api/stripe/webhook", {
      method: "POST",
      headers: { "stripe-signature": "t=1,v1=x" },
      body: "{}",
    });
    assert.equal(response.status, 503);
    assert.equal((await response.json()).error, "webhook_not_configured");
  } finally {
    await unconfigured.close();
  }
});

Deno.test("each event is recorded and applied once; unknown types are recorded and ignored", async () => {
  const app = await createTestApp({ env });
  try {
    const user = await createUser(app.db.sql);
    const event = stripeEvent(
      "customer.subscription.created",
      subscriptionObject("sub_a", user.stripeCustomerId!, "active"),
    );
    assert.equal(await deliverOk(app, event), "ok");
    assert.equal(await deliverOk(app, event), "duplicate");
    const unknown = stripeEvent("customer.tax_id.created", { id: "txi_1" });
    assert.equal(await deliverOk(app, unknown), "ignored");

    const rows = await auditRows(app);
    assert.deepEqual(rows.map((r) => [r.eventId, r.eventType]), [
      [event.id, "customer.subscription.created"],
      [unknown.id, "customer.tax_id.created"],
    ]);
    assert.ok(rows.every((r) => r.processedAt instanceof Date && r.error === null));
    assert.equal(rows[0].payload, JSON.stringify(event), "the raw body is kept");
    assert.equal(app.logs.records("stripe.duplicate_delivery").length, 1);
  } finally {
    await app.close();
  }
});

Deno.test("types named like members of every JavaScript object are unknown types too", async () => {
  const app = await createTestApp({ env });
  try {
    for (const type of ["constructor", "toString", "hasOwnProperty", "__proto__", "valueOf"]) {
      assert.equal(await deliverOk(app, stripeEvent(type, { id: "obj_1" })), "ignored", type);
    }
    const rows = await auditRows(app);
    assert.equal(rows.length, 5);
    assert.ok(rows.every((r) => r.processedAt instanceof Date && r.error === null));
  } finally {
    await app.close();
  }
});

Deno.test("stored payloads are capped at 16 KiB and marked truncated", async () => {
  const app = await createTestApp({ env });
  try {
    const event = stripeEvent("customer.updated", {
      id: "cus_big",
      description: "x".repeat(40_000),
    });
    assert.equal(await deliverOk(app, event), "ignored");
    const [row] = await auditRows(app);
    assert.equal(row.payload.length, 16 * 1024);
    assert.equal(row.payloadTruncated, true);
  } finally {
    await app.close();
  }
});

Deno.test("subscription lifecycle: trial, activation, trouble, cancellation", async (t) => {
  const app = await createTestApp({ env });
  try {
    const user = await createUser(app.db.sql);
    const customer = user.stripeCustomerId!;
    const trialEnd = Math.floor(Date.now() / 1000) + 14 * 86_400;
    let clock = 1_800_000_000;
    const next = () => ({ created: ++clock });

    await t.step(
      "checkout.session.completed grants nothing before the subscription's own event",
      async () => {
        await deliverOk(
          app,
          stripeEvent(
            "checkout.session.completed",
            checkoutSessionObject({
              client_reference_id: String(user.id),
              customer,
              subscription: "sub_life",
              payment_status: "paid",
            }),
            next(),
          ),
        );
        const row = await reload(app.db.sql, user);
        assert.equal(row.tier, "free", "what the subscription is decides, not the session");
        assert.equal(row.stripeSubscriptionId, null);
        assert.equal(row.stripeCustomerId, customer);
      },
    );

    await t.step("trialing stores the trial end", async () => {
      await deliverOk(
        app,
        stripeEvent(
          "customer.subscription.created",
          subscriptionObject("sub_life", customer, "trialing", { trial_end: trialEnd }),
          next(),
        ),
      );
      const row = await reload(app.db.sql, user);
      assert.equal(row.stripeSubscriptionStatus, "trialing");
      assert.equal(row.stripeTrialEndAt?.getTime(), trialEnd * 1000);
    });

    await t.step("active clears the trial end", async () => {
      await deliverOk(
        app,
        stripeEvent(
          "customer.subscription.updated",
          subscriptionObject("sub_life", customer, "active"),
          next(),
        ),
      );
      const row = await reload(app.db.sql, user);
      assert.equal(row.tier, "paid");
      assert.equal(row.stripeSubscriptionStatus, "active");
      assert.equal(row.stripeTrialEndAt, null);
    });

    await t.step("past_due keeps the tier, and when the episode began", async () => {
      const failed = next();
      await deliverOk(
        app,
        stripeEvent(
          "customer.subscription.updated",
          subscriptionObject("sub_life", customer, "past_due"),
          failed,
        ),
      );
      await deliverOk(
        app,
        stripeEvent(
          "customer.subscription.updated",
          subscriptionObject("sub_life", customer, "past_due", { cancel_at_period_end: true }),
          next(),
        ),
      );
      const row = await reload(app.db.sql, user);
      assert.equal(row.tier, "paid");
      assert.equal(row.stripeSubscriptionStatus, "past_due");
      assert.deepEqual(
        row.stripePastDueSince,
        new Date(failed.created * 1000),
        "the first failure",
      );
    });

    await t.step("deletion revokes but keeps the customer id", async () => {
      await deliverOk(
        app,
        stripeEvent(
          "customer.subscription.deleted",
          subscriptionObject("sub_life", customer, "canceled"),
          next(),
        ),
      );
      const row = await reload(app.db.sql, user);
      assert.equal(row.tier, "free");
      assert.equal(row.stripeSubscriptionId, null);
      assert.equal(row.stripeTrialEndAt, null);
      assert.equal(row.stripeCustomerId, customer);
    });

    await t.step(
      "checkout finds the person by customer when the reference is missing",
      async () => {
        await deliverOk(
          app,
          stripeEvent(
            "checkout.session.completed",
            checkoutSessionObject({
              client_reference_id: null,
              customer,
              subscription: "sub_second",
            }),
            next(),
          ),
        );
        const [found] = app.logs.records("stripe.checkout_completed").slice(-1);
        assert.equal(found.user_id, user.id);
        assert.equal(found.subscription_id, "sub_second");
        assert.equal((await reload(app.db.sql, user)).tier, "free");
      },
    );
  } finally {
    await app.close();
  }
});

Deno.test("out of order: nothing older overwrites something newer, and ended stays ended", async (t) => {
  const app = await createTestApp({ env });
  try {
    await t.step("a late 'updated: active' cannot resurrect a deleted subscription", async () => {
      const user = await createUser(app.db.sql);
      const c = user.stripeCustomerId!;
      await deliverOk(
        app,
        stripeEvent("customer.subscription.created", subscriptionObject("sub_x", c, "active"), {
          created: 100,
        }),
      );
      await deliverOk(
        app,
        stripeEvent("customer.subscription.deleted", subscriptionObject("sub_x", c, "canceled"), {
          created: 300,
        }),
      );
      await deliverOk(
        app,
        stripeEvent("customer.subscription.updated", subscriptionObject("sub_x", c, "active"), {
          created: 200,
        }),
      );
      await deliverOk(
        app,
        stripeEvent("customer.subscription.updated", subscriptionObject("sub_x", c, "active"), {
          created: 400,
        }),
      );
      await deliverOk(
        app,
        stripeEvent(
          "checkout.session.completed",
          checkoutSessionObject({
            client_reference_id: String(user.id),
            customer: c,
            subscription: "sub_x",
          }),
          { created: 500 },
        ),
      );
      const row = await reload(app.db.sql, user);
      assert.equal(row.tier, "free");
      assert.equal(row.stripeSubscriptionId, null);
    });

    await t.step("'created' arriving after 'updated' does not roll the status back", async () => {
      const user = await createUser(app.db.sql);
      const c = user.stripeCustomerId!;
      await deliverOk(
        app,
        stripeEvent("customer.subscription.updated", subscriptionObject("sub_y", c, "active"), {
          created: 100,
        }),
      );
      await deliverOk(
        app,
        stripeEvent("customer.subscription.created", subscriptionObject("sub_y", c, "incomplete"), {
          created: 100,
        }),
      );
      const row = await reload(app.db.sql, user);
      assert.equal(row.stripeSubscriptionStatus, "active");
      assert.equal(row.tier, "paid");
    });

    await t.step("an older 'updated' is ignored", async () => {
      const user = await createUser(app.db.sql);
      const c = user.stripeCustomerId!;
      await deliverOk(
        app,
        stripeEvent("customer.subscription.updated", subscriptionObject("sub_z", c, "past_due"), {
          created: 200,
        }),
      );
      await deliverOk(
        app,
        stripeEvent("customer.subscription.updated", subscriptionObject("sub_z", c, "active"), {
          created: 150,
        }),
      );
      assert.equal((await reload(app.db.sql, user)).stripeSubscriptionStatus, "past_due");
    });

    await t.step("deleting an old subscription leaves the current one alone", async () => {
      const user = await createUser(app.db.sql);
      const c = user.stripeCustomerId!;
      await deliverOk(
        app,
        stripeEvent("customer.subscription.created", subscriptionObject("sub_old", c, "active"), {
          created: 100,
        }),
      );
      await deliverOk(
        app,
        stripeEvent("customer.subscription.created", subscriptionObject("sub_new", c, "active"), {
          created: 200,
        }),
      );
      await deliverOk(
        app,
        stripeEvent("customer.subscription.deleted", subscriptionObject("sub_old", c, "canceled"), {
          created: 300,
        }),
      );
      const row = await reload(app.db.sql, user);
      assert.equal(row.tier, "paid");
      assert.equal(row.stripeSubscriptionId, "sub_new");
    });
  } finally {
    await app.close();
  }
});

Deno.test("events for people we do not know are logged, recorded and acknowledged", async () => {
  const app = await createTestApp({ env });
  try {
    const event = stripeEvent(
      "customer.subscription.updated",
      subscriptionObject("sub_q", "cus_nobody", "active"),
    );
    assert.equal(await deliverOk(app, event), "ok");
    const [row] = await auditRows(app);
    assert.ok(row.processedAt);
    const [logged] = app.logs.records("stripe.user_not_found");
    assert.equal(logged.customer_id, "cus_nobody");
    assert.equal(logged.event_id, event.id);
  } finally {
    await app.close();
  }
});

Deno.test("malformed known events are handler errors: recorded, acknowledged, nothing applied", async () => {
  const app = await createTestApp({ env });
  try {
    const user = await createUser(app.db.sql);
    const bad = stripeEvent("customer.subscription.updated", {
      id: "sub_bad",
      customer: user.stripeCustomerId,
      status: 42,
    });
    assert.equal(await deliverOk(app, bad), "handler_error");
    const [row] = await auditRows(app);
    assert.equal(row.processedAt, null);
    assert.match(row.error, /invalid event data: status: /);
    assert.equal((await reload(app.db.sql, user)).stripeSubscriptionStatus, null);
    assert.equal(await deliverOk(app, bad), "duplicate", "Stripe's retry does not re-run it");
  } finally {
    await app.close();
  }
});

Deno.test("twenty parallel deliveries of one event have one effect", async () => {
  const app = await createTestApp({ env });
  try {
    const user = await createUser(app.db.sql);
    const event = stripeEvent(
      "customer.subscription.created",
      subscriptionObject("sub_p", user.stripeCustomerId!, "active"),
    );
    const body = JSON.stringify(event);
    const headers = await signedHeaders(body);
    const answers = await Promise.all(
      Array.from(
        { length: 20 },
        () =>
          app.fetch("/api/stripe/webhook", { method: "POST", headers, body }).then((r) => r.json()),
      ),
    );
    const statuses = answers.map((a) => a.status).sort();
    assert.deepEqual(statuses, ["duplicate", ...Array(18).fill("duplicate"), "ok"].sort());
    assert.equal((await auditRows(app)).length, 1);
    assert.equal(app.logs.records("stripe.subscription_applied").length, 1);
  } finally {
    await app.close();
  }
});
