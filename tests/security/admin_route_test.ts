/** Admin routes answer only to the admin token: not to people, not to a wrong token. */
import assert from "node:assert/strict";
import { createTestApp } from "../helpers/app.ts";
import { signIn } from "../helpers/auth.ts";
import {
  deliverOk,
  stripeEvent,
  subscriptionObject,
  WEBHOOK_SECRET,
} from "../helpers/stripe_events.ts";

const ADMIN_TOKEN = "admin-token-for-route-tests-0123456789abcdef";

Deno.test("GET /api/admin/events/:id needs the admin token", async () => {
  const app = await createTestApp({ env: { ADMIN_TOKEN, STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET } });
  try {
    const event = stripeEvent(
      "customer.subscription.created",
      subscriptionObject("sub_admin", "cus_nobody", "active"),
    );
    assert.equal(await deliverOk(app, event), "ok");
    const path = `/api/admin/events/${event.id}`;
    const { cookie } = await signIn(app, "curious@example.com");

    const refusals: [string, HeadersInit][] = [
      ["no credentials", {}],
      ["a person's session", { cookie }],
      ["a wrong token", { authorization: `Bearer ${ADMIN_TOKEN.slice(0, -1)}x` }],
      ["the token in another scheme", { authorization: `Basic ${ADMIN_TOKEN}` }],
      ["the token plus a session", { authorization: "Bearer wrong", cookie }],
    ];
    for (const [label, headers] of refusals) {
      const response = await app.fetch(path, { headers });
      assert.equal(response.status, 401, label);
      const body = await response.json();
      assert.equal(body.error, "unauthorized", label);
      assert.ok(!JSON.stringify(body).includes(event.id), `${label}: nothing about the event`);
    }

    const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const answer = await app.fetch(path, { headers: admin });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get("cache-control"), "no-store");
    const row = await answer.json();
    assert.equal(row.eventId, event.id);
    assert.equal(row.eventType, "customer.subscription.created");
    assert.equal(row.error, null);
    assert.ok(row.processedAt);
    assert.equal(row.payload, JSON.stringify(event));

    for (const missing of ["evt_never_sent", encodeURIComponent("evt_\u0000"), "x".repeat(300)]) {
      const response = await app.fetch(`/api/admin/events/${missing}`, { headers: admin });
      assert.equal(response.status, 404, missing);
      assert.equal((await response.json()).error, "not_found");
    }
  } finally {
    await app.close();
  }

  const unconfigured = await createTestApp();
  try {
    const response = await unconfigured.fetch("/api/admin/events/evt_1", {
      headers: { authorization: "Bearer " },
    });
    assert.equal(response.status, 401, "without ADMIN_TOKEN no bearer token is admin");
    await response.body?.cancel();
  } finally {
    await unconfigured.close();
  }
});
