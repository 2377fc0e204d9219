/** Reading the audit trail of Stripe events, for operators. */
import type { Queryable } from "../db/client.ts";

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
