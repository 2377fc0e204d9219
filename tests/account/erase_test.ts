/**
 * "Delete my account", through the app and the Stripe simulator: a monthly subscriber with a
 * consent, a referrer and two invited friends, credit both ways, notices and two sessions deletes
 * their account. Stripe cancels and deletes; the sessions stop working; not one text, JSON or
 * address column of any table still holds their address, IP address, browser or card; the ledger
 * still adds up; Stripe's later events are applied harmlessly and stored redacted; a friend who
 * pays afterwards still gets their credit. A wrong confirmation, a cross-site post and a Stripe
 * failure change nothing.
 */
import assert from "node:assert/strict";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { cookieFrom, sessionHeaders, signIn } from "../helpers/auth.ts";
import { assertLedgerExplainsCredit } from "../helpers/ledger.ts";
import { pressButton } from "../helpers/stripe.ts";
import {
  AMEX,
  invitedReader,
  MASTERCARD,
  person,
  postForm,
  reader,
  settle,
  subscribe,
} from "../helpers/subscribers.ts";
import type { Sql } from "../../lib/db/client.ts";
import { withTransaction } from "../../lib/db/client.ts";
import { findUserByEmail, findUserById } from "../../lib/auth/users.ts";
import { canonicalEmail } from "../../lib/referrals/canonical_email.ts";
import { enqueueNotice } from "../../lib/notices/send.ts";
import { runAdminCommand } from "../../lib/admin/commands.ts";
import { eraseAccount } from "../../lib/account/erase.ts";
import { ensureStripeCustomer } from "../../lib/billing/customers.ts";
import { DomainError } from "../../lib/domain_error.ts";

const EMAIL = "Quentin.Erasmus+reads@Gmail.com";
const IP = "198.51.100.23";
const USER_AGENT = "ErasureProbe/7.3 (Quentin's laptop)";

/** Every row of every table, as text: to prove that a refused request changed nothing. */
async function everything(db: Sql): Promise<Record<string, string[]>> {
  const tables = await db<{ tableName: string }[]>`
    select table_name from information_schema.tables
    where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name`;
  const rows: Record<string, string[]> = {};
  for (const { tableName } of tables) {
    const found = await db.unsafe<{ row: string }[]>(
      `select t::text as row from "${tableName}" t order by 1`,
    );
    rows[tableName] = found.map((r) => r.row);
  }
  return rows;
}

/** Columns that can hold text: every one is searched, so a table added later is covered too. */
const TEXT_TYPES = ["text", "character varying", "character", "json", "jsonb", "inet", "ARRAY"];

/** Where, in any table, any of `needles` appears (any case): `table.column: needle`. */
async function whereFound(db: Sql, needles: string[]): Promise<string[]> {
  const columns = await db<{ tableName: string; columnName: string }[]>`
    select c.table_name, c.column_name
    from information_schema.columns c
      join information_schema.tables t
        on t.table_schema = c.table_schema and t.table_name = c.table_name
    where c.table_schema = 'public' and t.table_type = 'BASE TABLE'
      and c.data_type = any(${TEXT_TYPES})
    order by c.table_name, c.column_name`;
  const found: string[] = [];
  for (const { tableName, columnName } of columns) {
    for (const needle of needles) {
      const [{ count }] = await db.unsafe<{ count: number }[]>(
        `select count(*)::int as count from "${tableName}"
         where strpos(lower("${columnName}"::text), $1) > 0`,
        [needle.toLowerCase()],
      );
      if (count > 0) found.push(`${tableName}.${columnName}: ${needle}`);
    }
  }
  return found;
}

async function signedIn(app: TestApp, cookie: string): Promise<boolean> {
  const response = await app.fetch("/api/auth/me", { headers: { cookie } });
  await response.body?.cancel();
  return response.status === 200;
}

Deno.test("deleting an account removes the person and keeps only the pseudonymous record", async (t) => {
  const app = await createTestApp({ payments: "simulator", env: { TRUSTED_PROXIES: "1" } });
  const db = app.db.sql;
  try {
    // Rowan invites Quentin; Quentin subscribes monthly from his own IP and browser, invites
    // Fern (who pays) and Felix (who has not paid yet), and signs in on a second device.
    const rowan = await reader(app, "rowan.referrer@example.com");
    const quentin = await invitedReader(app, rowan, EMAIL);
    const started = await app.fetch("/api/stripe/checkout", {
      method: "POST",
      headers: {
        ...sessionHeaders(quentin.cookie),
        "x-forwarded-for": IP,
        "user-agent": USER_AGENT,
      },
      body: JSON.stringify({ cadence: "monthly", reg36Waiver: true }),
    });
    assert.equal(started.status, 200);
    await pressButton((await started.json()).url, "Pay");
    await settle(app);
    const fern = await invitedReader(app, quentin, "fern.early@example.net");
    await subscribe(app, fern, "monthly", "Pay", MASTERCARD);
    const felix = await invitedReader(app, quentin, "felix.late@example.net");
    const otherDevice = (await signIn(app, EMAIL)).cookie;

    const before = await person(app, quentin);
    const customerId = before.stripeCustomerId!;
    const subscriptionId = before.stripeSubscriptionId!;
    const [{ fingerprint }] = await db<{ fingerprint: string }[]>`
      select fingerprint from payment_fingerprints where user_id = ${before.id}`;
    const canonicalLocal = canonicalEmail(EMAIL).split("@")[0];
    const needles = [EMAIL, "quentin.erasmus", canonicalLocal, IP, USER_AGENT, fingerprint];
    const grantsBefore = await db`select * from credit_grants where user_id = ${before.id}`;

    await t.step("before: the person is everywhere the scan looks", async () => {
      assert.equal(canonicalLocal, "quentinerasmus");
      assert.deepEqual(
        grantsBefore.map((g) => g.reason).sort(),
        ["referral_buyer", "referral_referrer"],
      );
      const found = await whereFound(db, needles);
      for (
        const place of [
          `users.email: ${EMAIL}`,
          `login_tokens.email: ${EMAIL}`,
          `rate_limit_hits.key: ${EMAIL}`,
          `consents.ip: ${IP}`,
          `consents.user_agent: ${USER_AGENT}`,
          `payment_fingerprints.fingerprint: ${fingerprint}`,
          `notices.to_address: ${EMAIL}`,
          `stripe_events.payload: ${EMAIL}`,
        ]
      ) {
        assert.ok(found.includes(place), `${place} (found: ${found.join("; ")})`);
      }
      const [{ pending }] = await db`
        select count(*)::int as pending from jobs
        where kind = 'send_notice' and done_at is null and payload ->> 'userId' = ${
        String(before.id)
      }`;
      assert.ok(pending > 0, "a reminder is scheduled for the subscriber");
    });

    await t.step("the settings page offers it, and asks for the address", async () => {
      const settings = await app.fetch("/settings", { headers: { cookie: quentin.cookie } });
      const html = await settings.text();
      assert.match(html, /href="\/settings\/export"[^>]*>Download my data</);
      assert.match(html, /href="\/settings\/delete"[^>]*>Delete my account</);
      const form = await app.fetch("/settings/delete", { headers: { cookie: quentin.cookie } });
      assert.equal(form.status, 200);
      const text = await form.text();
      assert.match(text, /To confirm, type your email address/);
      assert.match(text, /Your subscription ends now/);
    });

    await t.step("a confirmation that is not the address: 400, nothing changes", async () => {
      const snapshot = await everything(db);
      for (const typed of ["rowan.referrer@example.com", "", "DELETE"]) {
        const response = await postForm(app, quentin, "/settings/delete", { email: typed });
        assert.equal(response.status, 400, typed);
        assert.match(await response.text(), /That is not your email address/);
      }
      assert.deepEqual(await everything(db), snapshot);
      assert.ok(await signedIn(app, quentin.cookie));
    });

    await t.step("a cross-site post: 403, nothing changes", async () => {
      const snapshot = await everything(db);
      const response = await app.fetch("/settings/delete", {
        method: "POST",
        headers: {
          cookie: quentin.cookie,
          origin: "https://evil.example",
          "content-type": "application/x-www-form-urlencoded",
        },
        body: new URLSearchParams({ email: EMAIL }).toString(),
      });
      assert.equal(response.status, 403);
      assert.equal((await response.json()).error, "cross_site_request");
      assert.deepEqual(await everything(db), snapshot);
    });

    await t.step("Stripe failing: an error to try again, nothing changes", async () => {
      const snapshot = await everything(db);
      app.sim!.failNextRequests({ count: 1, status: 500, match: "GET /v1/subscriptions" });
      const response = await postForm(app, quentin, "/settings/delete", { email: EMAIL });
      assert.equal(response.status, 502);
      assert.match(await response.text(), /payment provider/);
      await settle(app);
      assert.deepEqual(await everything(db), snapshot);
      assert.ok(await signedIn(app, quentin.cookie));
      assert.equal((await app.stripe!.subscriptions.retrieve(subscriptionId)).status, "trialing");
    });

    // Stripe's events about the cancellation and the deletion are held until the erasure is
    // done, so they arrive, as they can, after it.
    app.sim!.holdDeliveries();
    const response = await postForm(app, quentin, "/settings/delete", {
      email: EMAIL.toUpperCase(),
    });

    await t.step("done: signed out, on the page that says so", async () => {
      assert.equal(response.status, 303);
      assert.equal(response.headers.get("location"), "/account-deleted");
      assert.match(cookieFrom(response, "rm_session") ?? "", /^rm_session=$/);
      assert.match(response.headers.getSetCookie().join("\n"), /rm_session=; Max-Age=0/);
      const page = await app.fetch("/account-deleted");
      assert.equal(page.status, 200);
      const html = await page.text();
      assert.match(html, /Your account has been deleted/);
      assert.match(html, /We keep only what we must/);
    });

    await t.step("in Stripe: the subscription cancelled, the customer deleted", async () => {
      assert.equal((await app.stripe!.subscriptions.retrieve(subscriptionId)).status, "canceled");
      const customer = await app.stripe!.customers.retrieve(customerId);
      assert.equal(customer.deleted, true);
    });

    await t.step("Stripe's later events: applied without error, stored redacted", async () => {
      const held = app.sim!.heldEvents();
      const about = (type: string) =>
        held.filter((event) => {
          const object = event.data.object as { id: string; customer?: string };
          return event.type === type && (object.customer ?? object.id) === customerId;
        });
      assert.equal(about("customer.subscription.deleted").length, 1);
      assert.equal(about("customer.deleted").length, 1);
      await app.sim!.resumeDeliveries();
      await settle(app);
      for (const event of held) {
        const [row] = await db<
          {
            processedAt: Date | null;
            error: string | null;
            payloadRedactedAt: Date | null;
            payload: string;
          }[]
        >`
          select processed_at, error, payload_redacted_at, payload from stripe_events
          where event_id = ${event.id}`;
        assert.ok(row, `${event.type} was recorded`);
        assert.ok(row.processedAt, `${event.type} was processed`);
        assert.equal(row.error, null, event.type);
        assert.ok(row.payloadRedactedAt, `${event.type} is stored redacted`);
        assert.ok(!row.payload.includes(customerId), event.type);
      }
      const tombstone = await findUserById(db, before.id);
      assert.equal(tombstone!.stripeCustomerId, null, "nothing gave the tombstone a customer");
      assert.equal(tombstone!.tier, "free");
      const [{ failed }] = await db`
        select count(*)::int as failed from stripe_events where error is not null`;
      assert.equal(failed, 0);
    });

    await t.step("every session has ended", async () => {
      for (const cookie of [quentin.cookie, otherDevice]) {
        assert.equal(await signedIn(app, cookie), false);
        const settings = await app.fetch("/settings", { headers: { cookie } });
        assert.equal(settings.status, 303);
        assert.match(settings.headers.get("location") ?? "", /^\/login/);
      }
    });

    await t.step("no personal data remains, in any table", async () => {
      assert.deepEqual(await whereFound(db, needles), []);
    });

    await t.step("what stays: a pseudonymous row, the consent's evidence, the ledger", async () => {
      const tombstone = (await findUserById(db, before.id))!;
      assert.equal(tombstone.email, `deleted-${before.id}`);
      assert.ok(tombstone.deletedAt);
      assert.notEqual(tombstone.referralCode, before.referralCode);
      assert.deepEqual(tombstone.creditUntil, before.creditUntil);
      const consents = await db`select * from consents where user_id = ${before.id}`;
      assert.equal(consents.length, 1);
      assert.equal(consents[0].kind, "reg36_waiver");
      assert.ok(consents[0].textVersion && consents[0].acceptedAt);
      assert.match(consents[0].checkoutSessionId, /^cs_/);
      assert.equal(consents[0].ip, null);
      assert.equal(consents[0].userAgent, null);
      assert.deepEqual(
        await db`select * from credit_grants where user_id = ${before.id}`,
        grantsBefore,
      );
      await assertLedgerExplainsCredit(db);
      const [{ sent }] = await db`
        select count(*)::int as sent from notices where user_id = ${before.id}`;
      assert.ok(sent >= 2, "the notices sent are still counted");
      const [{ pending }] = await db`
        select count(*)::int as pending from jobs
        where kind = 'send_notice' and done_at is null and payload ->> 'userId' = ${
        String(before.id)
      }`;
      assert.equal(pending, 0, "nothing is left to email them");
      const invited = await db`
        select referrer_id from referrals
        where referred_user_id in (${(await person(app, fern)).id}, ${
        (await person(app, felix)).id
      })`;
      assert.deepEqual(invited.map((r) => r.referrerId), [null, null]);
      const [invitedBy] = await db`
        select referrer_id from referrals where referred_user_id = ${before.id}`;
      assert.equal(invitedBy.referrerId, (await person(app, rowan)).id);
    });

    await t.step("the old link and address lead nowhere", async () => {
      const link = await app.fetch(`/r/${before.referralCode}`);
      assert.equal(cookieFrom(link, "rm_ref"), null);
      assert.equal(await findUserByEmail(db, EMAIL), null);
      const shown = await runAdminCommand(app.services, ["user", EMAIL]);
      assert.notEqual(shown.code, 0);
      assert.match(shown.lines.join("\n"), /no account for/);
      const placeholder = await app.fetch("/api/auth/login", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: `deleted-${before.id}` }),
      });
      assert.equal(placeholder.status, 400, "the placeholder is no address to sign in with");
    });

    await t.step("a friend who pays afterwards still gets their credit", async () => {
      await subscribe(app, felix, "monthly", "Pay", AMEX);
      const grants = await db`
        select reason, days from credit_grants where user_id = ${(await person(app, felix)).id}`;
      assert.deepEqual(grants.map((g) => [g.reason, g.days]), [["referral_buyer", 45]]);
      assert.equal(
        (await db`select * from credit_grants where user_id = ${before.id}`).length,
        grantsBefore.length,
        "the deleted referrer gets nothing",
      );
      const [referral] = await db`
        select reward_status from referrals
        where referred_user_id = ${(await person(app, felix)).id}`;
      assert.equal(referral.rewardStatus, "credited");
      await assertLedgerExplainsCredit(db);
      assert.deepEqual(await whereFound(db, needles), []);
    });

    await t.step("a notice owed to a deleted person is never sent", async () => {
      const trigger = `${before.id}:after-deletion`;
      await withTransaction(db, (tx) =>
        enqueueNotice(tx, {
          kind: "credit_ending",
          userId: before.id,
          trigger,
          data: { creditUntil: before.creditUntil!.toISOString() },
        }, app.services.now()));
      await app.jobs.wake();
      const skipped = app.logs.records("notice.skipped").filter((r) => r.trigger === trigger);
      assert.equal(skipped.at(-1)?.reason, "account deleted");
      const [{ sent }] = await db`
        select count(*)::int as sent from notices where trigger = ${trigger}`;
      assert.equal(sent, 0);
    });

    await t.step("the address is free: signing in again makes a new account", async () => {
      await signIn(app, EMAIL);
      const fresh = (await findUserByEmail(db, EMAIL))!;
      assert.notEqual(fresh.id, before.id);
      assert.equal(fresh.creditUntil, null);
      assert.equal(fresh.deletedAt, null);
    });
  } finally {
    await app.close();
  }
});

Deno.test("a checkout under way when the account is deleted leaves no customer behind", async () => {
  const app = await createTestApp({ payments: "simulator" });
  try {
    const who = await reader(app, "Racing.Eraser@example.com");
    const before = await person(app, who);
    assert.equal(before.stripeCustomerId, null);
    await eraseAccount(app.services, before, before.email);

    // The checkout had read the person before the deletion and now makes their customer.
    await assert.rejects(
      ensureStripeCustomer(app.db.sql, app.stripe!, before, app.services.now()),
      (error: unknown) => error instanceof DomainError && error.code === "account_deleted",
    );
    await settle(app);
    const erased = await app.db.sql`
      select customer_id from erased_stripe_customers where user_id = ${before.id}`;
    assert.equal(erased.length, 1, "remembered, so its events are stored redacted");
    const customer = await app.stripe!.customers.retrieve(erased[0].customerId);
    assert.equal(customer.deleted, true, "deleted again in Stripe");
    const [{ count }] = await app.db.sql`
      select count(*)::int from stripe_events where strpos(lower(payload), ${before.email}) > 0`;
    assert.equal(count, 0, "no event about it keeps the address");
    assert.equal((await findUserById(app.db.sql, before.id))!.stripeCustomerId, null);
  } finally {
    await app.close();
  }
});
