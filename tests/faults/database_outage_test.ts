/**
 * The database restarting, as the app sees it: every connection dropped, new ones refused for a
 * while, then accepted again. Modelled with a TCP proxy in front of the shared server (which other
 * test runs use, so it is never restarted). Requests fail cleanly during the outage and succeed
 * afterwards, without restarting the app.
 */
import assert from "node:assert/strict";
import { createTestApp } from "../helpers/app.ts";
import { createTestDatabase } from "../helpers/db.ts";
import { serverOnly } from "../helpers/needs.ts";
import { signIn } from "../helpers/auth.ts";
import { startTcpProxy } from "../helpers/tcp_proxy.ts";
import { holdLock } from "../helpers/locks.ts";
import {
  deliver,
  stripeEvent,
  subscriptionObject,
  WEBHOOK_SECRET,
} from "../helpers/stripe_events.ts";
import { createUser } from "../helpers/users.ts";
import { connect } from "../../lib/db/client.ts";

Deno.test({
  ...serverOnly(
    "the app keeps serving across a database restart, without being restarted itself",
    "a row lock held from a second connection",
  ),
  async fn(t) {
    const direct = await createTestDatabase();
    const server = new URL(direct.url);
    const proxy = startTcpProxy({ hostname: server.hostname, port: Number(server.port) });
    const proxiedUrl = proxy.via(direct.url);
    const proxied = connect(proxiedUrl, { max: 4, connectTimeout: 5 });
    const app = await createTestApp({
      env: { STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET },
      db: { url: proxiedUrl, sql: proxied, close: () => proxied.end() },
    });
    try {
      const base = await app.listen();
      const { cookie } = await signIn(app, "reader@example.com");
      const user = await createUser(direct.sql);
      const event = stripeEvent(
        "customer.subscription.created",
        subscriptionObject("sub_outage", user.stripeCustomerId!, "active"),
      );
      const get = (path: string, headers: HeadersInit = {}) => fetch(`${base}${path}`, { headers });
      const status = async (response: Response | Promise<Response>) => {
        const answered = await response;
        await answered.body?.cancel();
        return answered.status;
      };

      await t.step("before: healthy", async () => {
        assert.equal(await status(get("/healthz")), 200);
        assert.equal(await status(get("/api/auth/me", { cookie })), 200);
      });

      await t.step("a webhook inside its transaction when the connections drop: 5xx", async () => {
        const lock = await holdLock(direct.sql, "select 1 from users where id = $1 for update", [
          user.id,
        ]);
        const answer = deliver(app, event);
        await lock.waiter();
        proxy.down();
        const failed = await answer;
        assert.ok(failed.status >= 500, `webhook answered ${failed.status}`);
        await failed.body?.cancel();
        await lock.release();
      });

      await t.step("during: 503 from /healthz, 5xx where the database is needed", async () => {
        const health = await get("/healthz");
        assert.equal(health.status, 503);
        assert.deepEqual(await health.json(), { status: "unavailable", database: "unreachable" });
        assert.equal(await status(get("/api/auth/me", { cookie })), 500);
        const webhook = await deliver(app, event);
        assert.ok(webhook.status >= 500, `webhook answered ${webhook.status}`);
        await webhook.body?.cancel();
        const login = await fetch(`${base}/api/auth/login`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ email: "new@example.com" }),
        });
        assert.equal(login.status, 503);
        await login.body?.cancel();
        assert.equal(await status(get("/pricing")), 200, "pages that need no database still work");
      });

      proxy.up();

      await t.step("after: the same app serves again, and Stripe's retry applies", async () => {
        assert.equal(await status(get("/healthz")), 200);
        assert.equal(await status(get("/api/auth/me", { cookie })), 200);
        const retried = await deliver(app, event);
        assert.equal(retried.status, 200);
        assert.equal((await retried.json()).status, "ok", "nothing was stored by the failure");
        const [row] = await direct.sql`select tier from users where id = ${user.id}`;
        assert.equal(row.tier, "paid");
      });
    } finally {
      await app.close();
      await proxied.end({ timeout: 1 });
      proxy.close();
      await direct.close();
    }
  },
});
