/**
 * Webhook throughput against its limit. The app: signed `customer.subscription.updated` events
 * POSTed to it over HTTP. The limit: the same SQL statements, issued straight through postgres.js
 * by the same functions the webhook calls, on the same pool. Both run at the same concurrency,
 * alternately, over the same users, one event per user per pass.
 */
import type { Sql } from "../lib/db/client.ts";
import { connect, withTransaction } from "../lib/db/client.ts";
import type { StripeEventEnvelope } from "../lib/billing/webhook/verify.ts";
import { lockPerson, refreshPerson } from "../lib/billing/entitlement.ts";
import { resolveDuplicates } from "../lib/billing/duplicates.ts";
import {
  recordedAt,
  recordSubscription,
  type SubscriptionSnapshot,
} from "../lib/billing/subscriptions.ts";
import {
  markProcessed,
  processStripeEvent,
  recordDelivery,
} from "../lib/billing/webhook/ledger.ts";
import { WEBHOOK_PATH } from "../lib/billing/webhook/receive.ts";
import { snapshotOf } from "../lib/billing/webhook/handlers/subscription_change.ts";
import { SubscriptionObject } from "../lib/billing/webhook/handlers/objects.ts";
import { createLogger } from "../lib/log.ts";
import type { TestApp } from "../tests/helpers/app.ts";
import { signedHeaders, stripeEvent, subscriptionObject } from "../tests/helpers/stripe_events.ts";
import { createUser } from "../tests/helpers/users.ts";
import { combine, type LoadResult, runLoad } from "./load.ts";
import { requestAll } from "./http_load.ts";

const QUIET = createLogger({ sink: () => {} });

export interface WebhookBenchSizes {
  users: number;
  concurrency: number;
  /** Events per timed run of each side; the sides alternate `rounds` times. */
  eventsPerRun: number;
  rounds: number;
}

export interface WebhookBenchResult {
  app: LoadResult;
  limit: LoadResult;
  /** Events that reached `processed_at` over all runs, of `sent`. */
  processed: number;
  sent: number;
}

interface Customer {
  customerId: string;
  subscriptionId: string;
}

interface Delivery {
  event: StripeEventEnvelope;
  body: string;
  headers: Record<string, string>;
  customerId: string;
  snapshot: SubscriptionSnapshot;
}

export async function benchWebhook(
  app: TestApp,
  sizes: WebhookBenchSizes,
): Promise<WebhookBenchResult> {
  const customers = await createCustomers(app, sizes.users);
  const url = `${await app.listen()}${WEBHOOK_PATH}`;
  const secret = app.config.stripe.webhookSecret!;
  const passes = newPassCounter();
  const deliveries = (count: number) => prepareDeliveries(customers, count, passes, secret);
  const viaHttp = async (batch: Delivery[]) =>
    await requestAll({
      requests: batch.map(({ body, headers }) => ({ url, method: "POST", headers, body })),
      concurrency: sizes.concurrency,
      expectStatus: 200,
    });
  const direct = async (batch: Delivery[]) =>
    await runLoad(batch, sizes.concurrency, (delivery) => applyDirectly(app.db.sql, delivery));

  await assertSameStatements(app, await deliveries(2));
  // Warm-up: the first event of each subscription inserts its row; measured ones update it.
  await viaHttp(await deliveries(sizes.users));
  await direct(await deliveries(sizes.users));

  const appRuns: LoadResult[] = [];
  const limitRuns: LoadResult[] = [];
  const sent: string[] = [];
  for (let round = 0; round < sizes.rounds; round++) {
    const overHttp = await deliveries(sizes.eventsPerRun);
    appRuns.push(await viaHttp(overHttp));
    const straight = await deliveries(sizes.eventsPerRun);
    limitRuns.push(await direct(straight));
    sent.push(...overHttp.map((d) => d.event.id), ...straight.map((d) => d.event.id));
  }
  const [{ processed }] = await app.db.sql<{ processed: number }[]>`
    select count(*)::int as processed from stripe_events
    where event_id = any(${sent}) and processed_at is not null and error is null`;
  return {
    app: combine(appRuns),
    limit: combine(limitRuns),
    processed,
    sent: sent.length,
  };
}

/**
 * What the webhook's transaction does for a `customer.subscription.updated` of a known user,
 * minus HTTP, signature and parsing: audit row, savepoint, user lock, same-second check,
 * subscription upsert, user update, processed mark, commit.
 */
async function applyDirectly(db: Sql, delivery: Delivery): Promise<void> {
  const { event, snapshot } = delivery;
  const now = new Date();
  const eventCreatedAt = new Date(event.created * 1000);
  await recordedAt(db, snapshot.id, eventCreatedAt);
  await withTransaction(db, async (tx) => {
    await recordDelivery(tx, event, delivery.body, now);
    await tx.savepoint(async (sp) => {
      const user = await lockPerson(sp, { customerId: delivery.customerId });
      if (!user) throw new Error(`no user for ${delivery.customerId}`);
      if (await recordSubscription(sp, user.id, snapshot, "updated", eventCreatedAt)) {
        await resolveDuplicates(sp, user.id, now, QUIET);
        await refreshPerson(sp, user.id);
      }
    });
    await markProcessed(tx, event.id, now);
  });
}

/**
 * The limit is only a limit if it issues exactly what the webhook issues: trace both on one
 * connection and compare the statements, so a change to the webhook cannot leave this behind.
 */
async function assertSameStatements(app: TestApp, [first, second]: Delivery[]) {
  const statements: string[] = [];
  const traced = connect(app.db.url, { max: 1, onQuery: (text) => statements.push(text) });
  try {
    // Connecting issues a catalogue query of postgres.js's own; trace only what follows.
    await traced`select 1`;
    statements.length = 0;
    const services = {
      config: app.config,
      db: traced,
      log: QUIET,
      now: () => new Date(),
      stripe: app.stripe,
      jobs: { wake: () => Promise.resolve() },
    };
    const outcome = await processStripeEvent(services, first.event, first.body);
    if (outcome !== "ok") throw new Error(`the traced webhook event came out ${outcome}`);
    const webhook = statements.splice(0);
    await applyDirectly(traced, second);
    const direct = statements.splice(0);
    const shape = (list: string[]) => list.map((s) => s.replace(/\s+/g, " ").trim()).join("\n");
    if (shape(webhook) !== shape(direct)) {
      throw new Error(
        `the direct-SQL path no longer issues the webhook's statements:\n--- webhook\n${
          shape(webhook)
        }\n--- direct\n${shape(direct)}`,
      );
    }
  } finally {
    await traced.end({ timeout: 5 });
  }
}

async function createCustomers(app: TestApp, count: number): Promise<Customer[]> {
  const customers: Customer[] = [];
  await runLoad(Array.from({ length: count }), 8, async () => {
    const user = await createUser(app.db.sql);
    customers.push({
      customerId: user.stripeCustomerId!,
      subscriptionId: `sub_bench_${user.id}`,
    });
  });
  return customers;
}

/**
 * `created` for each pass: one second newer than the pass before, so no event shares a second
 * with the state it replaces (which would send the app to ask Stripe) and, across many users,
 * none is stale. With one hot user, concurrent events may overtake one another; the stale ones
 * change nothing, on both sides alike.
 */
function newPassCounter() {
  const start = Math.floor(Date.now() / 1000) - 30 * 86_400;
  let pass = 0;
  return () => start + pass++;
}

async function prepareDeliveries(
  customers: Customer[],
  count: number,
  nextPass: () => number,
  secret: string,
): Promise<Delivery[]> {
  const deliveries: Delivery[] = [];
  let created = nextPass();
  for (let i = 0; i < count; i++) {
    if (i > 0 && i % customers.length === 0) created = nextPass();
    const customer = customers[i % customers.length];
    const cancelAtPeriodEnd = created % 2 === 0;
    const event = stripeEvent(
      "customer.subscription.updated",
      subscriptionObject(customer.subscriptionId, customer.customerId, "active", {
        cancel_at_period_end: cancelAtPeriodEnd,
      }),
      { created },
    );
    const body = JSON.stringify(event);
    deliveries.push({
      event,
      body,
      headers: await signedHeaders(body, { secret }),
      customerId: customer.customerId,
      snapshot: snapshotOf(
        SubscriptionObject.parse(event.data.object),
        "updated",
      ),
    });
  }
  return deliveries;
}
