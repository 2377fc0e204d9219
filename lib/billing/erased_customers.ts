/**
 * What billing keeps of a person who deleted their account: the ids of their Stripe customers,
 * and their Stripe events with the payloads redacted (the ids, types and times stay: exactly-once
 * processing needs them).
 *
 * Stripe goes on sending events about an erased customer — the cancellation and the deletion
 * the erasure itself caused, a refund or dispute months later — and a raw payload can carry the
 * person's email, name, address and card fingerprint. Every delivery therefore looks up the
 * event's customer before it stores anything, and stores a stand-in for an erased one.
 *
 * An erasure and the deliveries of its customers serialise on a transaction-scoped advisory lock
 * per customer id: either a delivery commits first and the erasure (which redacts what is stored)
 * sees its row, or the erasure commits first and the delivery sees the customer is erased.
 */
import type { Queryable, Tx } from "../db/client.ts";
import type { StripeEventEnvelope } from "./webhook/verify.ts";

/** The only shape a Stripe customer id has; anything else in an event is not one of ours. */
const CUSTOMER_ID = /^cus_[A-Za-z0-9]{1,250}$/;

/** The advisory lock key of a customer (null for none), shared with the webhook's audit insert. */
export function customerLockKey(customerId: string | null): string | null {
  return customerId === null ? null : `stripe-customer:${customerId}`;
}

/** Hold the customers' locks until the transaction ends (in one order, so two never deadlock). */
export async function lockStripeCustomers(tx: Tx, customerIds: readonly string[]): Promise<void> {
  for (const id of [...new Set(customerIds)].sort()) {
    await tx`select pg_advisory_xact_lock(hashtextextended(${customerLockKey(id)}, 0))`;
  }
}

export async function recordErasedCustomers(
  tx: Tx,
  userId: number,
  customerIds: readonly string[],
  now: Date,
): Promise<void> {
  for (const id of customerIds) {
    await tx`
      insert into erased_stripe_customers (customer_id, user_id, erased_at)
      values (${id}, ${userId}, ${now})
      on conflict (customer_id) do nothing`;
  }
}

/** The Stripe customer an event is about: the customer itself, or the object's `customer`. */
export function customerOfEvent(event: StripeEventEnvelope): string | null {
  const object = event.data.object;
  const customer = object.object === "customer" ? object.id : object.customer;
  const id = typeof customer === "object" && customer !== null
    ? (customer as { id?: unknown }).id
    : customer;
  return typeof id === "string" && CUSTOMER_ID.test(id) ? id : null;
}

/**
 * Whether `customerId` is an erased person's, as one row with the column `yes`: a query, or a
 * fragment for the statement that stores a delivery. Run after the customer's lock is held, in a
 * statement of its own or a later one, it sees an erasure that committed while the lock was
 * awaited.
 */
export function erasedCustomerCheck(tx: Tx, customerId: string | null) {
  return tx<{ yes: boolean }[]>`
    select exists (
      select 1 from erased_stripe_customers where customer_id = ${customerId}
    ) as yes`;
}

/**
 * What to store of a delivery: the raw body, or a stand-in when the event is about an erased
 * person's customer. Takes the customer's lock for the rest of the transaction.
 */
export async function payloadToStore(
  tx: Tx,
  event: StripeEventEnvelope,
  rawBody: string,
): Promise<{ payload: string; redacted: boolean }> {
  const customer = customerOfEvent(event);
  if (!customer) return { payload: rawBody, redacted: false };
  await lockStripeCustomers(tx, [customer]);
  const [erased] = await erasedCustomerCheck(tx, customer);
  return erased.yes
    ? { payload: redactedPayload({ eventId: event.id, eventType: event.type }), redacted: true }
    : { payload: rawBody, redacted: false };
}

/** The stand-in for a redacted payload: still an event envelope, with nothing about anyone. */
export function redactedPayload(event: { eventId: string; eventType: string }): string {
  return JSON.stringify({
    id: event.eventId,
    object: "event",
    type: event.eventType,
    redacted: "about a person who deleted their account",
  });
}

/**
 * Redact every stored event about the person: those naming one of their customers, or their
 * address as a value. Returns how many were redacted.
 */
export async function redactStripeEvents(
  tx: Tx,
  person: { email: string; customerIds: readonly string[] },
  now: Date,
): Promise<number> {
  const quotedEmail = `"${person.email.toLowerCase()}"`;
  const quotedIds = person.customerIds.map((id) => `"${id}"`);
  const events = await tx<{ eventId: string; eventType: string }[]>`
    select event_id, event_type from stripe_events
    where payload_redacted_at is null
      and (strpos(lower(payload), ${quotedEmail}) > 0
           or exists (select 1 from unnest(${quotedIds}::text[]) as quoted(id)
                      where strpos(payload, quoted.id) > 0))
    for update`;
  for (const event of events) {
    await tx`
      update stripe_events
      set payload = ${redactedPayload(event)}, payload_truncated = false,
        payload_redacted_at = ${now}
      where event_id = ${event.eventId}`;
  }
  return events.length;
}

/**
 * Every Stripe customer that was the person's, current or replaced: the current one, and those
 * whose own events (`customer.created`, `.updated`, `.deleted`) carry the person's address.
 */
export async function stripeCustomersOf(
  db: Queryable,
  person: { email: string; stripeCustomerId: string | null },
): Promise<string[]> {
  const named = await db<{ customerId: string | null }[]>`
    select distinct substring(payload from '"id":[[:space:]]*"(cus_[A-Za-z0-9]+)"') as customer_id
    from stripe_events
    where event_type in ('customer.created', 'customer.updated', 'customer.deleted')
      and strpos(lower(payload), ${`"${person.email.toLowerCase()}"`}) > 0`;
  const ids = named.map((row) => row.customerId).filter((id): id is string => id !== null);
  if (person.stripeCustomerId) ids.push(person.stripeCustomerId);
  return [...new Set(ids)].sort();
}
