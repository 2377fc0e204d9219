/**
 * The ledger of Stripe events, `stripe_events`: every verified delivery is recorded once and
 * applied once — recorded and applied in one transaction — and an operator can replay what failed
 * or read any row.
 *
 * One transaction per delivery: the audit row is inserted, marked processed, with `ON CONFLICT
 * (event_id) DO NOTHING`, so a second delivery of the same event (even a concurrent one, which
 * waits on the unique index) finds it and changes nothing; then the handler runs, and the row
 * commits with its changes or not at all. If the handler fails on the event's own data, the
 * transaction rolls back and a second one records the audit row with the error, and Stripe gets
 * a 200 so it does not retry in vain — an operator replays it. If the database or Stripe fails,
 * everything rolls back and Stripe gets a 5xx, so it delivers again.
 *
 * A delivery is a handful of statements in few round trips (the webhook's throughput is mostly
 * the database's work and round trips): the event's customer lock, the handler's own locks and
 * the audit insert travel together, the insert also answers what the handler reads, and the row
 * is written once.
 */
import type Stripe from "stripe";
import { z } from "zod";
import type { Services } from "../../services.ts";
import type { Queryable, Tx } from "../../db/client.ts";
import { withTransaction } from "../../db/client.ts";
import { isDatabaseFailure, isDataError } from "../../db/errors.ts";
import { isTransientStripeFailure } from "../stripe_calls.ts";
import { parseEnvelope, type StripeEventEnvelope } from "./verify.ts";
import { EVENT_HANDLERS } from "./handlers/mod.ts";
import { AskStripeFirst } from "./handlers/context.ts";
import { enqueuedIn } from "../../jobs/queue.ts";
import { known, type Read, readOne } from "../../db/reads.ts";
import {
  customerLockKey,
  customerOfEvent,
  erasedCustomerCheck,
  payloadToStore,
  redactedPayload,
} from "../erased_customers.ts";

/** Stored payloads are capped so no sender can bloat a row. */
export const STORED_PAYLOAD_MAX_CHARS = 16 * 1024;

export type EventOutcome = "ok" | "duplicate" | "ignored" | "handler_error";

type LedgerServices = Pick<Services, "config" | "db" | "log" | "now" | "stripe" | "jobs">;

/**
 * Record a verified event and apply it, unless it was already recorded. What the handler needs
 * from Stripe is fetched first, outside the transaction; afterwards, jobs the event enqueued are
 * started.
 */
export async function processStripeEvent(
  services: LedgerServices,
  event: StripeEventEnvelope,
  rawBody: string,
): Promise<EventOutcome> {
  const { log } = services;
  let outcome: EventOutcome;
  try {
    outcome = await applyOnce(services, event, {
      serialise: (tx) => lockEventCustomer(tx, event),
      claim: (tx, read) => recordDelivery(tx, event, rawBody, services.now(), read),
    }, false) ?? "duplicate";
  } catch (error) {
    if (!(error instanceof HandlerFailed)) throw error;
    outcome = await recordFailedDelivery(services, event, rawBody, error.cause);
  }
  const fields = { event_id: event.id, type: event.type };
  if (outcome === "duplicate") log.info("stripe.duplicate_delivery", fields);
  else if (outcome === "ignored") log.info("stripe.event_unhandled", fields);
  else if (outcome === "ok") log.info("stripe.processed", fields);
  return outcome;
}

/**
 * How a delivery takes hold of its event inside the transaction: `serialise` (optional) waits
 * for whatever must come first, then `claim` says whether the event is this delivery's to apply,
 * with the answer to the handler's `read` (asked after the handler's locks).
 */
interface Claim {
  serialise?(tx: Tx): Promise<unknown>;
  claim<T>(tx: Tx, read: Read<T>): Promise<Claimed<T>>;
}

interface Claimed<T> {
  claimed: boolean;
  found: T;
}

/**
 * One transaction: `serialise`, the handler's `lock`, the `claim` with the handler's
 * `readWithClaim` (not claimed: nothing to do, null comes back), the handler, and — for a replay
 * (`markAfter`) — the mark. Statements nothing depends on are sent together: the first three in
 * one round trip, and whatever the handler hands over as its last (`sendWithCommit`) with the
 * COMMIT. Then the runner is woken if the event enqueued a job. A handler failing on the event's
 * data comes out as `HandlerFailed`, with everything rolled back.
 */
async function applyOnce(
  services: LedgerServices,
  event: StripeEventEnvelope,
  { serialise, claim }: Claim,
  markAfter: boolean,
): Promise<"ok" | "ignored" | null> {
  let sentLast: Promise<unknown>[] = [];
  let transaction: Tx | null = null;
  const outcome = await preparedTransaction(services, event, async (tx, prepared) => {
    transaction = tx;
    sentLast = [];
    const serialised = serialise?.(tx) ?? Promise.resolve();
    serialised.catch(() => {});
    const locked = startLock(tx, event, prepared);
    // The handler's locks went before the claim: if they failed, the claim only saw the
    // transaction aborted (25P02), and their failure is the one to judge. Else the server
    // refusing the claim's data is judged like the handler's own: its statement asks the
    // handler's read with the event's data.
    const { claimed, found } = await claim(tx, readWithClaim(event, prepared)).catch(
      async (error) => {
        throw await locked.then(() => isDataError(error) ? judged(error) : error, judged);
      },
    );
    if (!claimed) {
      await locked.catch(() => {});
      return null;
    }
    await serialised;
    const last = (statements: Promise<unknown>) => {
      statements.catch(() => {});
      sentLast.push(statements);
    };
    const applied = await applyRecordedEvent(
      tx,
      event,
      prepared,
      { locked, found },
      last,
      services,
    );
    if (markAfter) last(markProcessed(tx, event, services.now()));
    return applied;
  });
  // A statement sent with the COMMIT that failed turned it into a rollback: nothing was kept.
  try {
    await Promise.all(sentLast);
  } catch (error) {
    throw judged(error);
  }
  if (transaction && enqueuedIn(transaction)) void services.jobs.wake();
  return outcome;
}

/**
 * Send the handler's `lock` statements now. What they find (or how they fail) is awaited in
 * `applyRecordedEvent`, where a failure is judged like the handler's own.
 */
function startLock(tx: Tx, event: StripeEventEnvelope, prepared: Prepared): Promise<unknown> {
  const handler = EVENT_HANDLERS.get(event.type);
  if (!handler?.lock || !prepared.ok) return Promise.resolve(undefined);
  let locked: Promise<unknown>;
  try {
    locked = handler.lock(tx, event, prepared.value);
  } catch (error) {
    locked = Promise.reject(error);
  }
  locked.catch(() => {});
  return locked;
}

/** The handler's `readWithClaim`, or nothing to read. */
function readWithClaim(event: StripeEventEnvelope, prepared: Prepared): Read<unknown> {
  const handler = EVENT_HANDLERS.get(event.type);
  if (!handler?.readWithClaim || !prepared.ok) return known(undefined);
  return handler.readWithClaim(event, prepared.value);
}

/**
 * The handler failed on the event's own data: its transaction rolled back, so record the audit
 * row with the error now — unless a concurrent delivery recorded the event meanwhile.
 */
async function recordFailedDelivery(
  services: LedgerServices,
  event: StripeEventEnvelope,
  rawBody: string,
  error: unknown,
): Promise<EventOutcome> {
  services.log.error("stripe.handler_error", { event_id: event.id, type: event.type, error });
  return await withTransaction(services.db, async (tx) => {
    const { payload, redacted } = await payloadToStore(tx, event, rawBody);
    const receivedAt = services.now();
    const truncated = payload.length > STORED_PAYLOAD_MAX_CHARS;
    const inserted = await tx`
      insert into stripe_events (event_id, event_type, received_at, payload, payload_truncated,
                                 payload_redacted_at, error)
      values (${event.id}, ${event.type}, ${receivedAt},
              ${truncated ? payload.slice(0, STORED_PAYLOAD_MAX_CHARS) : payload}, ${truncated},
              ${redacted ? receivedAt : null}, ${describe(error)})
      on conflict (event_id) do nothing
      returning id`;
    return inserted.length > 0 ? "handler_error" as const : "duplicate" as const;
  });
}

/** A handler's failure on the event's own data, carried out of its transaction. */
class HandlerFailed extends Error {
  override name = "HandlerFailed";
}

/**
 * A handler's failure as the ledger treats it: the database or Stripe failing (and a request to
 * ask Stripe first) passes through as it is; anything else is the event's own data.
 */
function judged(error: unknown): unknown {
  if (isInfrastructureFailure(error) || error instanceof AskStripeFirst) return error;
  return new HandlerFailed("the event's handler failed", { cause: error });
}

type Prepared = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * `work` in one transaction, after the handler's `prepare`; once more, with Stripe's current
 * view, if the handler finds under its lock that it needs it (`AskStripeFirst`).
 */
async function preparedTransaction<T>(
  services: Pick<Services, "db" | "stripe">,
  event: StripeEventEnvelope,
  work: (tx: Tx, prepared: Prepared) => Promise<T>,
): Promise<T> {
  const prepared = await prepare(event, services, false);
  try {
    return await withTransaction(services.db, (tx) => work(tx, prepared));
  } catch (error) {
    if (!(error instanceof AskStripeFirst)) throw error;
    const fresh = await prepare(event, services, true);
    return await withTransaction(services.db, (tx) => work(tx, fresh));
  }
}

/**
 * Run the handler's `prepare`. Stripe or the database failing is thrown (the delivery answers
 * 5xx and nothing is stored); a failure of the event's own data is kept for the handler's turn,
 * where it is recorded like any handler error.
 */
async function prepare(
  event: StripeEventEnvelope,
  services: Pick<Services, "db" | "stripe">,
  fresh: boolean,
): Promise<Prepared> {
  const handler = EVENT_HANDLERS.get(event.type);
  if (!handler?.prepare) return { ok: true, value: undefined };
  try {
    return { ok: true, value: await handler.prepare(event, services, { fresh }) };
  } catch (error) {
    if (isInfrastructureFailure(error)) throw error;
    return { ok: false, error };
  }
}

/**
 * The event's customer lock, held to the end of the transaction: deliveries about one customer,
 * and an erasure of it, take their turns (see `erased_customers.ts`).
 */
async function lockEventCustomer(tx: Tx, event: StripeEventEnvelope): Promise<void> {
  const customer = customerOfEvent(event);
  if (customer !== null) {
    await tx`select pg_advisory_xact_lock(hashtextextended(${customerLockKey(customer)}, 0))`;
  }
}

/**
 * Insert the event's audit row, marked processed (the handler's changes commit with it, or
 * nothing does); not claimed when the row is already there (a duplicate delivery, or a concurrent
 * one that committed first — the customer lock, or the unique index, makes this one wait for it).
 * Sent after the customer lock, it sees an erasure that committed before: then it stores the
 * stand-in rather than the raw body. The same statement answers `read`: sent after the handler's
 * locks, it sees what was committed before them. (If the insert waits on a concurrent delivery of
 * the event, the answer may predate that one's changes; but then this delivery is not claimed, or
 * that one rolled back.)
 */
async function recordDelivery<T>(
  tx: Tx,
  event: StripeEventEnvelope,
  rawBody: string,
  receivedAt: Date,
  read: Read<T>,
): Promise<Claimed<T>> {
  const customer = customerOfEvent(event);
  const standIn = redactedPayload({ eventId: event.id, eventType: event.type });
  const truncated = rawBody.length > STORED_PAYLOAD_MAX_CHARS;
  const payload = truncated ? rawBody.slice(0, STORED_PAYLOAD_MAX_CHARS) : rawBody;
  const [row] = await tx<{ claimed: boolean; found: unknown }[]>`
    with erased as (${erasedCustomerCheck(tx, customer)}),
    inserted as (
      insert into stripe_events (event_id, event_type, received_at, processed_at, payload,
                                 payload_truncated, payload_redacted_at)
      select ${event.id}, ${event.type}, ${receivedAt}, ${receivedAt},
             case when erased.yes then ${standIn} else ${payload} end,
             ${truncated} and not erased.yes,
             case when erased.yes then ${receivedAt}::timestamptz end
      from erased
      on conflict (event_id) do nothing
      returning id)
    select exists (select 1 from inserted) as claimed,
      ${read.query ? tx`(${read.query(tx)})` : tx`null`} as found`;
  return { claimed: row.claimed, found: read.parse(row.found) };
}

/**
 * Mark a replayed event as applied (or as needing nothing), clearing its earlier error. It runs
 * after the customer's lock was taken, so it sees an erasure that committed before: then the
 * stored payload becomes the stand-in.
 */
async function markProcessed(tx: Tx, event: StripeEventEnvelope, at: Date): Promise<void> {
  const customer = customerOfEvent(event);
  const standIn = redactedPayload({ eventId: event.id, eventType: event.type });
  await tx`
    with erased as (${erasedCustomerCheck(tx, customer)})
    update stripe_events set processed_at = ${at}, error = null,
      payload = case when erased.yes then ${standIn} else payload end,
      payload_truncated = payload_truncated and not erased.yes,
      payload_redacted_at = case when erased.yes
        then coalesce(payload_redacted_at, ${at}) else payload_redacted_at end
    from erased
    where event_id = ${event.id}`;
}

/**
 * Run an event's handler inside `tx` for an audit row that exists and is locked, with what its
 * `lock` and `readWithClaim` found. Shared by first delivery and operator replay.
 */
async function applyRecordedEvent(
  tx: Tx,
  event: StripeEventEnvelope,
  prepared: Prepared,
  { locked, found }: { locked: Promise<unknown>; found: unknown },
  sendWithCommit: (statements: Promise<unknown>) => void,
  services: Pick<Services, "config" | "log" | "now" | "stripe">,
): Promise<"ok" | "ignored"> {
  const handler = EVENT_HANDLERS.get(event.type);
  if (!handler) return "ignored";
  try {
    if (!prepared.ok) throw prepared.error;
    await handler.apply({
      tx,
      config: services.config,
      event,
      log: services.log,
      now: services.now(),
      prepared: prepared.value,
      locked: await locked,
      found,
      canAskStripe: services.stripe !== null,
      sendWithCommit,
    });
  } catch (error) {
    throw judged(error);
  }
  return "ok";
}

/**
 * Failures that are not the event's fault — the database or Stripe failing — must reach Stripe
 * as a 5xx, so it delivers the event again later.
 */
export function isInfrastructureFailure(error: unknown): boolean {
  return isTransientStripeFailure(error) || isDatabaseFailure(error);
}

function describe(error: unknown): string {
  const text = error instanceof z.ZodError
    ? `invalid event data: ${
      error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")
    }`
    : error instanceof Error
    ? `${error.name}: ${error.message}`
    : String(error);
  return text.slice(0, 1024);
}

export class ReplayRefused extends Error {
  override name = "ReplayRefused";
}

/**
 * Operator replay of a recorded event whose handler failed (or never ran), under the same
 * exactly-once rules as a first delivery: the audit row is locked, an already-processed event is
 * refused, and success or failure is recorded on the row.
 */
export async function replayStripeEvent(
  services: LedgerServices,
  eventId: string,
): Promise<"ok" | "ignored" | "handler_error"> {
  const [row] = await services.db<
    { payload: string; payloadTruncated: boolean; payloadRedactedAt: Date | null }[]
  >`
    select payload, payload_truncated, payload_redacted_at from stripe_events
    where event_id = ${eventId}`;
  if (!row) throw new ReplayRefused(`no event ${eventId} has been received`);
  const stored = row.payloadRedactedAt ? "redacted" : row.payloadTruncated ? "truncated" : null;
  const event = stored
    ? await fetchFromStripe(services.stripe, eventId, stored)
    : parseEnvelope(JSON.parse(row.payload));

  let outcome: "ok" | "ignored" | "handler_error";
  try {
    // The claim never declines: an event processed already is refused outright.
    outcome = (await applyOnce(services, event, {
      serialise: (tx) => lockEventCustomer(tx, event),
      async claim(tx, read) {
        const [locked] = await tx<{ processedAt: Date | null }[]>`
          select processed_at from stripe_events where event_id = ${eventId} for update`;
        if (locked.processedAt) {
          throw new ReplayRefused(
            `event ${eventId} was already processed at ${locked.processedAt.toISOString()}`,
          );
        }
        return { claimed: true, found: await readOne(tx, read) };
      },
    }, true))!;
  } catch (error) {
    if (!(error instanceof HandlerFailed)) throw error;
    services.log.error("stripe.handler_error", { event_id: eventId, type: event.type, error });
    await services.db`
      update stripe_events set error = ${describe(error.cause)}
      where event_id = ${eventId} and processed_at is null`;
    outcome = "handler_error";
  }
  services.log.info("stripe.replayed", { event_id: eventId, outcome });
  return outcome;
}

async function fetchFromStripe(
  stripe: Stripe | null,
  eventId: string,
  stored: "truncated" | "redacted",
): Promise<StripeEventEnvelope> {
  if (!stripe) {
    throw new ReplayRefused(
      `event ${eventId} was stored ${stored} and Stripe is not configured to fetch it`,
    );
  }
  return parseEnvelope(await stripe.events.retrieve(eventId));
}

/** Recent audit rows, newest first: all, or those whose handler failed, of one type or any. */
export async function listRecordedEvents(
  db: Queryable,
  filter: { failedOnly: boolean; type: string | null; limit: number },
): Promise<Omit<RecordedEvent, "payload" | "payloadTruncated">[]> {
  return await db<Omit<RecordedEvent, "payload" | "payloadTruncated">[]>`
    select event_id, event_type, received_at, processed_at, error from stripe_events
    where (${filter.failedOnly} = false or error is not null)
      and (${filter.type}::text is null or event_type = ${filter.type})
    order by received_at desc, id desc
    limit ${filter.limit}`;
}

/** An event's audit row, for operators. */
export interface RecordedEvent {
  eventId: string;
  eventType: string;
  receivedAt: Date;
  processedAt: Date | null;
  /** Why the handler failed, while it has not been replayed successfully. */
  error: string | null;
  /** The raw body as received, or its first 16 KiB when `payloadTruncated`. */
  payload: string;
  payloadTruncated: boolean;
}

export async function findRecordedEvent(
  db: Queryable,
  eventId: string,
): Promise<RecordedEvent | null> {
  const [row] = await db<RecordedEvent[]>`
    select event_id, event_type, received_at, processed_at, error, payload, payload_truncated
    from stripe_events where event_id = ${eventId}`;
  return row ?? null;
}
