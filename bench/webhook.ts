/**
 * Webhook throughput against its limit. The app: signed `customer.subscription.updated` events
 * POSTed to it over HTTP. The limit: the ledger's own processing of the same verified events,
 * called in-process on the same pool — the webhook without HTTP and the signature check. Both run
 * at the same concurrency, alternately, over the same users, one event per user per pass.
 */
import type { StripeEventEnvelope } from "../lib/billing/webhook/verify.ts";
import { processStripeEvent } from "../lib/billing/webhook/ledger.ts";
import { WEBHOOK_PATH } from "../lib/billing/webhook/receive.ts";
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
    await runLoad(batch, sizes.concurrency, (delivery) => applyDirectly(app, delivery));
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
 * What the webhook does for a verified `customer.subscription.updated` of a known user, minus
 * HTTP and the signature check: the ledger's own `processStripeEvent` (its look before the
 * transaction, then audit row, savepoint, user lock, subscription upsert, the person's
 * projection, processed mark, commit), on the same pool.
 */
async function applyDirectly(app: TestApp, delivery: Delivery): Promise<void> {
  const services = { ...app.services, log: QUIET };
  const outcome = await processStripeEvent(services, delivery.event, delivery.body);
  if (outcome !== "ok") throw new Error(`a directly applied event came out ${outcome}`);
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
    });
  }
  return deliveries;
}
