/**
 * Behind a transaction-mode pooler, as managed PostgreSQL services deploy one: the release step,
 * the operator commands and the app itself all run through PgBouncer, over TLS where the URL asks
 * for it (`sslmode=require`).
 */
import assert from "node:assert/strict";
import manifest from "../../manifest.gen.ts";
import { parseConfig } from "../../lib/config.ts";
import { startApp } from "../../lib/start.ts";
import { connect } from "../../lib/db/client.ts";
import { createTestDatabase } from "../helpers/db.ts";
import { runDeno } from "../helpers/bounded.ts";
import { captureLog } from "../helpers/logs.ts";
import { poolerOnly, startPgBouncer } from "../helpers/pgbouncer.ts";
import { createUser } from "../helpers/users.ts";
import {
  signedHeaders,
  stripeEvent,
  subscriptionObject,
  WEBHOOK_SECRET,
} from "../helpers/stripe_events.ts";

Deno.test({
  ...poolerOnly("migrate and admin run through PgBouncer in transaction mode"),
  async fn() {
    const db = await createTestDatabase({ migrate: false });
    const pooler = await startPgBouncer(db.url);
    const env = { DATABASE_URL: pooler.via(db.url), DATABASE_POOLER: "transaction" };
    try {
      const migrated = await runDeno(["run", "-A", "tasks/migrate.ts"], { env });
      assert.equal(migrated.code, 0, migrated.stderr);
      assert.match(migrated.stdout, /^applied 0001_accounts, /);
      const check = await runDeno(["run", "-A", "tasks/migrate.ts", "--check"], { env });
      assert.equal(check.code, 0, check.stdout + check.stderr);

      await createUser(db.sql, { email: "pooled@example.com" });
      const granted = await runDeno(
        ["run", "-A", "tasks/admin.ts", "grant-credit", "--email", "pooled@example.com"]
          .concat(["--days", "2"]),
        { env },
      );
      assert.equal(granted.code, 0, granted.stderr);
      assert.match(granted.stdout, /pooled@example.com: \+2 days/);
      const shown = await runDeno(["run", "-A", "tasks/admin.ts", "user", "pooled@example.com"], {
        env,
      });
      assert.equal(shown.code, 0, shown.stderr);
      assert.match(shown.stdout, /paid access now\s+yes/);
    } finally {
      await pooler.stop();
      await db.close();
    }
  },
});

Deno.test({
  ...poolerOnly("the app through PgBouncer over TLS: sslmode=require in DATABASE_URL"),
  async fn() {
    const db = await createTestDatabase({ migrate: false });
    const pooler = await startPgBouncer(db.url, { tls: true });
    const url = pooler.via(db.url);
    assert.match(url, /[?&]sslmode=require/);
    try {
      const plain = connect(url.replace(/[?&]sslmode=require/, ""), { max: 1, connectTimeout: 5 });
      const refused = await plain`select 1`.then(() => null, (error: Error) => error);
      await plain.end({ timeout: 1 });
      assert.ok(refused, "the pooler accepts only TLS, so every connection below is encrypted");

      const parsed = parseConfig({
        DATABASE_URL: url,
        DATABASE_POOLER: "transaction",
        PORT: "0",
        STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      });
      if (!parsed.ok) throw new Error(parsed.errors.join("; "));
      const logs = captureLog();
      const app = await startApp(parsed.config, logs.log, manifest);
      try {
        const health = await (await fetch(`${app.url}/healthz`)).json();
        assert.equal(health.database, "ok");
        assert.deepEqual(health.migrations.pending, [], "start-up migrated through the pooler");
        const user = await createUser(db.sql);
        const event = stripeEvent(
          "customer.subscription.created",
          subscriptionObject("sub_tls", user.stripeCustomerId!, "active"),
        );
        const body = JSON.stringify(event);
        const answer = await fetch(`${app.url}/api/stripe/webhook`, {
          method: "POST",
          headers: await signedHeaders(body),
          body,
        });
        assert.deepEqual(await answer.json(), { status: "ok" });
        const [row] = await db.sql`select tier from users where id = ${user.id}`;
        assert.equal(row.tier, "paid");
      } finally {
        await app.shutdown();
      }
    } finally {
      await pooler.stop();
      await db.close();
    }
  },
});
