/**
 * The Stripe webhook, end to end: verify the delivery, then record and apply the event exactly
 * once. A refusal is thrown as a `DomainError` (the web edge answers it); an accepted delivery
 * comes back as the ledger's outcome.
 */
import type { Services } from "../../services.ts";
import { verifyStripeEvent } from "./verify.ts";
import { type EventOutcome, processStripeEvent } from "./ledger.ts";

/** Where the app receives Stripe's events: the URL configured in Stripe's dashboard. */
export const WEBHOOK_PATH = "/api/stripe/webhook";

/** Stripe's events are far smaller; a larger body is refused before it is read. */
export const WEBHOOK_MAX_BYTES = 1024 * 1024;

export async function receiveStripeWebhook(
  services: Pick<Services, "config" | "db" | "log" | "now" | "stripe" | "jobs">,
  rawBody: string,
  signature: string | null,
): Promise<EventOutcome> {
  const event = await verifyStripeEvent(
    services.config.stripe.webhookSecret,
    rawBody,
    signature,
    services.log,
  );
  return await processStripeEvent(services, event, rawBody);
}
