/**
 * Webhook throughput. The app: signed `customer.subscription.updated` events POSTed to the app's
 * own process. Beside it, in the same rounds and on the very same signed events: the fixed
 * four-statement floor (no HTTP), and the peer (stripe-sync-engine in its own process, same load
 * client). And, on events of its own (the app's database has seen the others): the ledger's own
 * `processStripeEvent` called in-process — the webhook without HTTP and the signature check. All
 * run at the same concurrency, alternately, over the same people, one event per person per pass.
 */
import type { StripeEventEnvelope } from "../lib/billing/webhook/verify.ts";
import { processStripeEvent } from "../lib/billing/webhook/ledger.ts";
import { createLogger } from "../lib/log.ts";
import type { Sql } from "../lib/db/client.ts";
import type { TestApp } from "../tests/helpers/app.ts";
import { signedHeaders, stripeEvent, subscriptionObject } from "../tests/helpers/stripe_events.ts";
import { createUser } from "../tests/helpers/users.ts";
import { combine, type LoadResult, runLoad } from "./load.ts";
import { requestAll } from "./http_load.ts";
import { openWebhookReference } from "./webhook_reference.ts";
import { type Check, countCheck, noFailures } from "./checks.ts";
import { withCpu } from "./cpu.ts";

const QUIET = createLogger({ sink: () => {} });

export interface WebhookBenchSizes {
  users: number;
  concurrency: number;
  /** Events per timed run of each side; the sides alternate `rounds` times. */
  eventsPerRun: number;
  rounds: number;
}

/** Who else gets the app's events. */
export interface WebhookComparisons {
  /** The four-statement floor, on `concurrency` connections of its own. */
  reference: boolean;
  /** The app's process, whose CPU each delivery costs. */
  appPid: number;
  /** The peer's webhook URL, its process, and its database to check what it wrote. */
  peer: { url: string; pid: number; db: Sql } | null;
  /** Resolves once the servers under test are idle: no side's runs start on another's work. */
  untilServersIdle: () => Promise<void>;
}

export interface WebhookBenchResult {
  app: LoadResult;
  /** The ledger's `processStripeEvent` in-process, on events of its own. */
  ownSql: LoadResult;
  reference: LoadResult | null;
  peer: LoadResult | null;
  checks: Check[];
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
  subscriptionId: string;
}

interface Price {
  id: string;
  unit_amount: number | null;
  currency: string;
}

export async function benchWebhook(
  app: TestApp,
  appWebhookUrl: string,
  sizes: WebhookBenchSizes,
  comparisons: WebhookComparisons,
): Promise<WebhookBenchResult> {
  const customers = await createCustomers(app, sizes.users);
  const price = await annualPrice(app);
  const secret = app.config.stripe.webhookSecret!;
  const passes = newPassCounter();
  const deliveries = (count: number) => prepareDeliveries(customers, count, passes, secret, price);
  const overHttp = async (url: string, batch: Delivery[]) =>
    await requestAll({
      requests: batch.map(({ body, headers }) => ({ url, method: "POST", headers, body })),
      concurrency: sizes.concurrency,
      expectStatus: 200,
    });
  const inProcess = async (batch: Delivery[]) =>
    await runLoad(batch, sizes.concurrency, (delivery) => applyInProcess(app, delivery));
  const reference = comparisons.reference
    ? await openWebhookReference(
      app.db.url,
      customers.map((c) => c.customerId),
      sizes.concurrency,
    )
    : null;
  const toReference = async (batch: Delivery[]) =>
    await runLoad(batch, sizes.concurrency, (delivery) => reference!.apply(asReference(delivery)));
  const { peer } = comparisons;
  const runs = { app: newRuns(), reference: newRuns(), peer: newRuns(), ownSql: newRuns() };
  const sameEvents: Delivery[] = [];
  const ownEvents: Delivery[] = [];
  // Each side's CPU is read from idle to idle: work it left queued is its own. The in-process
  // side queues its notices in the bench's own job runner, as the app's process does in its own:
  // they are sent before the next side starts, not during it.
  const untilIdle = async () => {
    await Promise.all([comparisons.untilServersIdle(), app.jobs.wake()]);
  };
  const costed = async (serverPid: number | null, run: () => Promise<LoadResult>) => {
    const { result, cpu } = await withCpu(serverPid, untilIdle, run);
    return { ...result, cpu };
  };
  try {
    // Round 0 warms up: the first event of each subscription inserts its row; measured ones
    // update it.
    for (let round = 0; round <= sizes.rounds; round++) {
      const measured = round > 0;
      const batch = await deliveries(measured ? sizes.eventsPerRun : sizes.users);
      const own = await deliveries(measured ? sizes.eventsPerRun : sizes.users);
      runs.app.add(
        measured,
        await costed(comparisons.appPid, () => overHttp(appWebhookUrl, batch)),
      );
      if (reference) runs.reference.add(measured, await costed(null, () => toReference(batch)));
      if (peer) runs.peer.add(measured, await costed(peer.pid, () => overHttp(peer.url, batch)));
      runs.ownSql.add(measured, await costed(null, () => inProcess(own)));
      sameEvents.push(...batch);
      ownEvents.push(...own);
    }
    const checks = [
      noFailures("app over HTTP, deliveries", runs.app.all),
      countCheck(
        "app over HTTP, events processed",
        await processedByApp(app, sameEvents),
        sameEvents.length,
        "events",
      ),
      noFailures("app's own SQL in-process, events", runs.ownSql.all),
      countCheck(
        "app's own SQL in-process, events processed",
        await processedByApp(app, ownEvents),
        ownEvents.length,
        "events",
      ),
    ];
    if (reference) {
      checks.push(
        noFailures("4-statement reference, events", runs.reference.all),
        countCheck(
          "4-statement reference, events processed",
          await reference.processed(sameEvents.map((d) => d.event.id)),
          sameEvents.length,
          "events",
        ),
      );
    }
    if (peer) {
      checks.push(
        noFailures("stripe-sync-engine, deliveries", runs.peer.all),
        countCheck(
          "stripe-sync-engine, subscriptions at their newest event",
          await peerSubscriptionsUpToDate(peer.db, sameEvents),
          customers.length,
          "rows in stripe.subscriptions",
        ),
      );
    }
    return {
      app: combine(runs.app.measured),
      ownSql: combine(runs.ownSql.measured),
      reference: reference ? combine(runs.reference.measured) : null,
      peer: peer ? combine(runs.peer.measured) : null,
      checks,
    };
  } finally {
    await reference?.close();
  }
}

/** One side's runs: measured ones make its figures, all of them are checked for failures. */
function newRuns() {
  const measured: LoadResult[] = [];
  const all: LoadResult[] = [];
  return {
    measured,
    all,
    add(isMeasured: boolean, result: LoadResult) {
      all.push(result);
      if (isMeasured) measured.push(result);
    },
  };
}

/**
 * What the webhook does for a verified `customer.subscription.updated` of a known user, minus
 * HTTP and the signature check: the ledger's own `processStripeEvent` (the customer's lock, the
 * person's lock with the subscription as recorded and the audit row; then the upsert and the
 * person's projection with the commit), on the test app's pool.
 */
async function applyInProcess(app: TestApp, delivery: Delivery): Promise<void> {
  const services = { ...app.services, log: QUIET };
  const outcome = await processStripeEvent(services, delivery.event, delivery.body);
  if (outcome !== "ok") throw new Error(`an event applied in-process came out ${outcome}`);
}

function asReference(delivery: Delivery) {
  return {
    eventId: delivery.event.id,
    type: delivery.event.type,
    payload: delivery.body,
    customerId: delivery.customerId,
    status: String(delivery.event.data.object.status),
  };
}

async function processedByApp(app: TestApp, deliveries: Delivery[]): Promise<number> {
  const ids = deliveries.map((d) => d.event.id);
  const [{ processed }] = await app.db.sql<{ processed: number }[]>`
    select count(*)::int as processed from stripe_events
    where event_id = any(${ids}) and processed_at is not null and error is null`;
  return processed;
}

/**
 * Rows in the peer's `stripe.subscriptions` that hold the newest event sent for them: the peer
 * stamps `last_synced_at` with the event's `created`, and ignores older ones.
 */
async function peerSubscriptionsUpToDate(db: Sql, deliveries: Delivery[]): Promise<number> {
  const newest = new Map<string, number>();
  for (const { subscriptionId, event } of deliveries) {
    newest.set(subscriptionId, Math.max(newest.get(subscriptionId) ?? 0, event.created));
  }
  const [{ count }] = await db<{ count: number }[]>`
    select count(*)::int as count
    from stripe.subscriptions s
    join unnest(${[...newest.keys()]}::text[], ${[...newest.values()]}::bigint[])
      as sent(id, created) on sent.id = s.id
    where s.last_synced_at = to_timestamp(sent.created)`;
  return count;
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
  if (customers.length !== count) throw new Error(`created ${customers.length} of ${count} people`);
  return customers;
}

/** The annual plan's price as Stripe (the simulator) has it. */
async function annualPrice(app: TestApp): Promise<Price> {
  const price = await app.stripe!.prices.retrieve(app.config.stripe.priceAnnual!);
  return { id: price.id, unit_amount: price.unit_amount, currency: price.currency };
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
  return { first: start, next: () => start + pass++ };
}

type PassCounter = ReturnType<typeof newPassCounter>;

/**
 * Events as Stripe sends them: the subscription carries its item list (one item, on the annual
 * price), which both the app and the peer read.
 */
async function prepareDeliveries(
  customers: Customer[],
  count: number,
  passes: PassCounter,
  secret: string,
  price: Price,
): Promise<Delivery[]> {
  const deliveries: Delivery[] = [];
  let created = passes.next();
  for (let i = 0; i < count; i++) {
    if (i > 0 && i % customers.length === 0) created = passes.next();
    const { customerId, subscriptionId } = customers[i % customers.length];
    const event = stripeEvent(
      "customer.subscription.updated",
      subscriptionObject(subscriptionId, customerId, "active", {
        cancel_at_period_end: created % 2 === 0,
        ...subscriptionDetails(subscriptionId, price, passes.first),
      }),
      { created },
    );
    const body = JSON.stringify(event);
    deliveries.push({
      event,
      body,
      headers: await signedHeaders(body, { secret }),
      customerId,
      subscriptionId,
    });
  }
  return deliveries;
}

const DAY_SECONDS = 86_400;

/** A subscription started 200 days before the run's first event, in its first year. */
function subscriptionDetails(subscriptionId: string, price: Price, firstEvent: number) {
  const start = firstEvent - 200 * DAY_SECONDS;
  return {
    created: start,
    start_date: start,
    livemode: false,
    metadata: {},
    items: {
      object: "list",
      data: [{
        id: `si_${subscriptionId.slice("sub_".length)}`,
        object: "subscription_item",
        created: start,
        current_period_start: start,
        current_period_end: start + 365 * DAY_SECONDS,
        metadata: {},
        price: { object: "price", ...price },
        quantity: 1,
        subscription: subscriptionId,
      }],
      has_more: false,
      total_count: 1,
      url: `/v1/subscription_items?subscription=${subscriptionId}`,
    },
  };
}
