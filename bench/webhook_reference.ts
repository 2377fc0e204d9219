/**
 * The webhook's database floor, fixed so it does not move when the app's SQL does: for each
 * verified event, one transaction of four statements — record the event, lock its person, update
 * them, mark the event processed — on tables of its own (schema `webhook_reference`), through
 * postgres.js, with one connection per event in flight and no HTTP.
 */
import postgres from "postgres";

export interface ReferenceEvent {
  eventId: string;
  type: string;
  /** The raw body, stored as the app stores it. */
  payload: string;
  customerId: string;
  status: string;
}

export interface WebhookReference {
  apply(event: ReferenceEvent): Promise<void>;
  /** How many of `eventIds` were recorded and marked processed. */
  processed(eventIds: string[]): Promise<number>;
  close(): Promise<void>;
}

export async function openWebhookReference(
  databaseUrl: string,
  customerIds: string[],
  connections: number,
): Promise<WebhookReference> {
  const sql = postgres(databaseUrl, {
    max: connections,
    onnotice: () => {},
  });
  await sql.unsafe(`
    drop schema if exists webhook_reference cascade;
    create schema webhook_reference;
    create table webhook_reference.ref_users (
      id text primary key,
      status text,
      updated_at timestamptz not null default now()
    );
    create table webhook_reference.ref_events (
      event_id text primary key,
      type text not null,
      payload text not null,
      received_at timestamptz not null default now(),
      processed_at timestamptz
    );`);
  await sql`insert into webhook_reference.ref_users (id) select unnest(${customerIds}::text[])`;
  return {
    async apply(event) {
      await sql.begin(async (tx) => {
        await tx`
          insert into webhook_reference.ref_events (event_id, type, payload)
          values (${event.eventId}, ${event.type}, ${event.payload})`;
        const [user] = await tx`
          select id, status from webhook_reference.ref_users
          where id = ${event.customerId} for update`;
        if (!user) throw new Error(`no reference user ${event.customerId}`);
        await tx`
          update webhook_reference.ref_users set status = ${event.status}, updated_at = now()
          where id = ${event.customerId}`;
        await tx`
          update webhook_reference.ref_events set processed_at = now()
          where event_id = ${event.eventId}`;
      });
    },
    async processed(eventIds) {
      const [{ count }] = await sql<{ count: number }[]>`
        select count(*)::int as count from webhook_reference.ref_events
        where event_id = any(${eventIds}) and processed_at is not null`;
      return count;
    },
    async close() {
      await sql.unsafe(`drop schema if exists webhook_reference cascade`);
      await sql.end({ timeout: 5 });
    },
  };
}
