/**
 * Exactly-once under load: 200 distinct events, each delivered 5 times, shuffled, 50 at a time
 * over real HTTP to the app listening on a port — the way Stripe retries and redelivers when
 * answers are slow. Whatever the interleaving, every event is applied once, every referral
 * credits each side once, nothing answers 5xx, and `credit_until` is what the ledger explains.
 */
import assert from "node:assert/strict";
import { createTestApp } from "../helpers/app.ts";
import { createTestDatabase } from "../helpers/db.ts";
import type { CapturedLog } from "../helpers/logs.ts";
import { poolerOnly, startPgBouncer, throughPooler } from "../helpers/pgbouncer.ts";
import type { Sql } from "../../lib/db/client.ts";
import { seededRandom } from "../helpers/random.ts";
import {
  invoiceObject,
  signedHeaders,
  stripeEvent,
  subscriptionObject,
  type TestEvent,
  WEBHOOK_SECRET,
} from "../helpers/stripe_events.ts";
import { createUser } from "../helpers/users.ts";
import { assertLedgerExplainsCredit } from "../helpers/ledger.ts";
import type { User } from "../../lib/auth/users.ts";

const DUPLICATES = 5;
const CONCURRENCY = 50;
const REFERRERS = 8;
const BUYERS_PER_REFERRER = 3;
const UNREFERRED_BUYERS = 8;

type Plan = "annual" | "monthly" | "cancelled";

interface Person {
  user: User;
  plan: Plan;
  subscriptionId: string;
  events: TestEvent[];
}

/**
 * Five events of one person's subscription, stamped one second apart so their order is known
 * (Stripe's `created`), whatever order they are delivered in.
 */
function lifeOf(user: User, plan: Plan, index: number): Person {
  const customer = user.stripeCustomerId!;
  const subscriptionId = `sub_load_${index}`;
  let second = 1_800_000_000 + index * 100;
  const at = () => ({ created: ++second });
  const subscription = (status: string, extra: Record<string, unknown> = {}) =>
    subscriptionObject(subscriptionId, customer, status, extra);
  const invoice = (amount: number, reason: string) =>
    invoiceObject(customer, amount, reason, subscriptionId);
  const events = plan === "annual"
    ? [
      stripeEvent("customer.subscription.created", subscription("trialing"), at()),
      stripeEvent("invoice.paid", invoice(0, "subscription_create"), at()),
      stripeEvent("customer.subscription.updated", subscription("active"), at()),
      stripeEvent("invoice.paid", invoice(7000, "subscription_cycle"), at()),
      stripeEvent("invoice.paid", invoice(7000, "subscription_cycle"), at()),
    ]
    : plan === "monthly"
    ? [
      stripeEvent("customer.subscription.created", subscription("active"), at()),
      stripeEvent("invoice.paid", invoice(700, "subscription_create"), at()),
      stripeEvent(
        "customer.subscription.updated",
        subscription("active", { cancel_at_period_end: true }),
        at(),
      ),
      stripeEvent("invoice.paid", invoice(700, "subscription_cycle"), at()),
      stripeEvent("customer.subscription.updated", subscription("active"), at()),
    ]
    : [
      stripeEvent("customer.subscription.created", subscription("active"), at()),
      stripeEvent("invoice.paid", invoice(700, "subscription_create"), at()),
      stripeEvent(
        "customer.subscription.updated",
        subscription("active", { cancel_at_period_end: true }),
        at(),
      ),
      stripeEvent("invoice.payment_failed", invoice(0, "subscription_cycle"), at()),
      stripeEvent("customer.subscription.deleted", subscription("canceled"), at()),
    ];
  return { user, plan, subscriptionId, events };
}

/** Send every delivery, `concurrency` at a time; returns each answer with its event. */
async function deliverAll(
  urls: string[],
  deliveries: TestEvent[],
  concurrency: number,
): Promise<{ event: TestEvent; status: number; outcome: string }[]> {
  const answers: { event: TestEvent; status: number; outcome: string }[] = [];
  let next = 0;
  const worker = async () => {
    while (next < deliveries.length) {
      const url = urls[next % urls.length];
      const event = deliveries[next++];
      const body = JSON.stringify(event);
      // Signed at send time, as Stripe signs every attempt afresh.
      const response = await fetch(url, {
        method: "POST",
        headers: await signedHeaders(body),
        body,
      });
      const text = await response.text();
      let outcome = text;
      try {
        outcome = JSON.parse(text).status ?? text;
      } catch {
        // Not JSON: keep the text, the assertions below show it.
      }
      answers.push({ event, status: response.status, outcome });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return answers;
}

/**
 * The whole load against the app instances listening at `webhookUrls` (deliveries alternate
 * between them), then every assertion, on the database through `sql`.
 */
async function loadAndCheck(
  sql: Sql,
  webhookUrls: string[],
  logs: CapturedLog[],
): Promise<void> {
  const random = seededRandom("webhook load");
  const referrers: User[] = [];
  for (let i = 0; i < REFERRERS; i++) referrers.push(await createUser(sql));
  // A referrer can be referred too: the chain must credit each link once.
  await sql`
    insert into referrals (referrer_id, referred_user_id, code)
    values (${referrers[1].id}, ${referrers[0].id}, ${referrers[1].referralCode})`;
  const buyers: User[] = [];
  for (const referrer of referrers) {
    for (let i = 0; i < BUYERS_PER_REFERRER; i++) {
      buyers.push(await createUser(sql, { referredBy: referrer }));
    }
  }
  for (let i = 0; i < UNREFERRED_BUYERS; i++) buyers.push(await createUser(sql));

  const plans: Plan[] = ["annual", "monthly", "cancelled"];
  const people = [...referrers, ...buyers].map((user, i) =>
    lifeOf(user, plans[i % plans.length], i)
  );
  const events = people.flatMap((person) => person.events);
  assert.equal(events.length, 200);
  const deliveries = random.shuffle(events.flatMap((event) => Array(DUPLICATES).fill(event)));

  const answers = await deliverAll(webhookUrls, deliveries, CONCURRENCY);

  assert.equal(answers.length, 1000);
  const failures = answers.filter((a) => a.status !== 200);
  assert.deepEqual(
    failures.map((a) => `${a.event.id}: ${a.status} ${a.outcome}`),
    [],
    "every delivery answered 200",
  );
  const applied = new Map<string, string[]>();
  for (const answer of answers) {
    if (answer.outcome === "duplicate") continue;
    applied.set(answer.event.id, [...applied.get(answer.event.id) ?? [], answer.outcome]);
  }
  for (const event of events) {
    assert.deepEqual(applied.get(event.id), ["ok"], `${event.id} (${event.type})`);
  }

  const audit = await sql<
    { eventId: string; processedAt: Date | null; error: string | null }[]
  >`
    select event_id, processed_at, error from stripe_events`;
  assert.equal(audit.length, 200, "one audit row per event");
  assert.deepEqual(
    new Set(audit.map((row) => row.eventId)),
    new Set(events.map((event) => event.id)),
  );
  assert.ok(audit.every((row) => row.processedAt !== null && row.error === null));
  const logged = (event: string) => logs.reduce((sum, log) => sum + log.records(event).length, 0);
  assert.equal(logged("stripe.processed"), 200, "each applied once");
  assert.equal(logged("stripe.duplicate_delivery"), 800);

  // Every referred person paid money, so every referral converted and credited each side once.
  const referrals = await sql<{ id: number; convertedAt: Date | null }[]>`
    select id, converted_at from referrals`;
  assert.equal(referrals.length, REFERRERS * BUYERS_PER_REFERRER + 1);
  assert.ok(referrals.every((r) => r.convertedAt !== null), "every referral converted");
  const sides = await sql<{ referralId: number; reason: string; grants: number }[]>`
    select referral_id, reason, count(*)::int as grants from credit_grants
    group by referral_id, reason`;
  assert.equal(sides.length, referrals.length * 2, "both sides of every referral credited");
  assert.ok(sides.every((side) => side.grants === 1), JSON.stringify(sides));
  const [{ total }] = await sql`select count(*)::int as total from credit_grants`;
  assert.equal(total, referrals.length * 2);
  await assertLedgerExplainsCredit(sql);

  // Each person ends in the state of their newest event, whatever arrived last.
  for (const person of people) {
    const [user] = await sql<User[]>`select * from users where id = ${person.user.id}`;
    const [subscription] = await sql<{ status: string; endedAt: Date | null }[]>`
      select status, ended_at from subscriptions
      where stripe_subscription_id = ${person.subscriptionId}`;
    if (person.plan === "cancelled") {
      assert.equal(user.tier, "free", `${person.subscriptionId} was cancelled`);
      assert.equal(user.stripeSubscriptionId, null);
      assert.ok(subscription.endedAt, "the subscription stays ended");
    } else {
      assert.equal(user.tier, "paid", person.subscriptionId);
      assert.equal(user.stripeSubscriptionId, person.subscriptionId);
      assert.equal(user.stripeSubscriptionStatus, "active");
      assert.equal(subscription.status, "active");
      assert.equal(subscription.endedAt, null);
    }
  }
}

Deno.test("1,000 shuffled deliveries of 200 events at 50 concurrent: every effect exactly once", async () => {
  const app = await createTestApp({ env: { STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET } });
  try {
    await loadAndCheck(app.db.sql, [`${await app.listen()}/api/stripe/webhook`], [app.logs]);
  } finally {
    await app.close();
  }
});

Deno.test({
  ...poolerOnly(
    "1,000 shuffled deliveries through PgBouncer (transaction mode) to two app instances at once",
  ),
  async fn() {
    const db = await createTestDatabase();
    const pooler = await startPgBouncer(db.url);
    const pools = await Promise.all([1, 2].map(() => throughPooler(pooler, db)));
    const instances = await Promise.all(
      pools.map((pool) =>
        createTestApp({ env: { STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET }, db: pool })
      ),
    );
    try {
      const urls = await Promise.all(
        instances.map(async (app) => `${await app.listen()}/api/stripe/webhook`),
      );
      await loadAndCheck(db.sql, urls, instances.map((app) => app.logs));
      for (const app of instances) {
        assert.ok(app.logs.records("stripe.processed").length > 0, "both instances applied events");
      }
    } finally {
      await Promise.all(instances.map((app) => app.close()));
      await Promise.all(pools.map((pool) => pool.close()));
      await pooler.stop();
      await db.close();
    }
  },
});
