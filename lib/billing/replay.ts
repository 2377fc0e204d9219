/**
 * Operator replay of a recorded Stripe event whose handler failed (or never ran), under the same
 * exactly-once rules as a first delivery: the audit row is locked, an already-processed event is
 * refused, and success or failure is recorded on the row.
 */
import type Stripe from "stripe";
import type { Services } from "../services.ts";
import { withTransaction } from "../db/client.ts";
import type { StripeEventEnvelope } from "./events.ts";
import { applyRecordedEvent, parseEnvelope } from "./webhook.ts";

export class ReplayRefused extends Error {
  override name = "ReplayRefused";
}

export async function replayStripeEvent(
  services: Pick<Services, "db" | "log" | "now" | "stripe">,
  eventId: string,
): Promise<"ok" | "ignored" | "handler_error"> {
  const [row] = await services.db<{ payload: string; payloadTruncated: boolean }[]>`
    select payload, payload_truncated from stripe_events where event_id = ${eventId}`;
  if (!row) throw new ReplayRefused(`no event ${eventId} has been received`);
  const event = row.payloadTruncated
    ? await fetchFromStripe(services.stripe, eventId)
    : parseEnvelope(JSON.parse(row.payload));

  return await withTransaction(services.db, async (tx) => {
    const [locked] = await tx<{ processedAt: Date | null }[]>`
      select processed_at from stripe_events where event_id = ${eventId} for update`;
    if (locked.processedAt) {
      throw new ReplayRefused(
        `event ${eventId} was already processed at ${locked.processedAt.toISOString()}`,
      );
    }
    const outcome = await applyRecordedEvent(tx, event, services);
    services.log.info("stripe.replayed", { event_id: eventId, outcome });
    return outcome;
  });
}

async function fetchFromStripe(
  stripe: Stripe | null,
  eventId: string,
): Promise<StripeEventEnvelope> {
  if (!stripe) {
    throw new ReplayRefused(
      `event ${eventId} was stored truncated and Stripe is not configured to fetch it`,
    );
  }
  return parseEnvelope(await stripe.events.retrieve(eventId));
}
