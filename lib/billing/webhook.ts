/**
 * The Stripe webhook: verify, record, apply — exactly once.
 *
 * One transaction per delivery: the audit row is inserted with `ON CONFLICT (event_id) DO
 * NOTHING`, so a second delivery of the same event (even a concurrent one, which waits on the
 * unique index) finds it and changes nothing. The handler runs under a savepoint: if it fails
 * deterministically (a bug, bad data) its effects are rolled back, the error is recorded and
 * Stripe gets a 200 so it does not retry in vain — an operator replays it. If the database
 * itself fails, everything rolls back and Stripe gets a 5xx, so it retries.
 */
import Stripe from "stripe";
import { z } from "zod";
import type { Services } from "../services.ts";
import type { Tx } from "../db/client.ts";
import { withSavepoint, withTransaction } from "../db/client.ts";
import { isDatabaseFailure } from "../db/errors.ts";
import { EVENT_HANDLERS, type StripeEventEnvelope } from "./events.ts";

export const WEBHOOK_MAX_BYTES = 1024 * 1024;
/** Stored payloads are capped so no sender can bloat a row. */
export const STORED_PAYLOAD_MAX_CHARS = 16 * 1024;
export const SIGNATURE_TOLERANCE_SECONDS = 300;

export type EventOutcome = "ok" | "duplicate" | "ignored" | "handler_error";

export interface WebhookAnswer {
  status: number;
  body: { status: EventOutcome } | { error: string; message: string };
}

// PostgreSQL text cannot hold NUL, and no Stripe id or type has any control character.
const printable = (field: string) =>
  z.string().min(1, `has no ${field}`).max(255).refine(
    (value) => ![...value].some((c) => c < " " || c === "\u007f"),
    "has control characters",
  );

const Envelope = z.object({
  id: printable("id"),
  type: printable("type"),
  created: z.number().int().nonnegative(),
  data: z.object({ object: z.record(z.string(), z.unknown()) }),
});

/** The parts of an event every delivery must have; throws with a readable message otherwise. */
export function parseEnvelope(value: unknown): StripeEventEnvelope {
  const envelope = Envelope.safeParse(value);
  if (envelope.success) return envelope.data;
  const issue = envelope.error.issues[0];
  throw new Error(`The event ${issue.path.join(".") || "body"} ${issue.message}`);
}

const cryptoProvider = Stripe.createSubtleCryptoProvider();

type WebhookServices = Pick<Services, "config" | "db" | "log" | "now" | "stripe">;

export async function receiveStripeWebhook(
  services: WebhookServices,
  rawBody: string,
  signature: string | null,
): Promise<WebhookAnswer> {
  const secret = services.config.stripe.webhookSecret;
  if (!secret) return refuse(503, "webhook_not_configured", "STRIPE_WEBHOOK_SECRET is not set");
  if (!signature) return refuse(400, "missing_signature", "The Stripe-Signature header is missing");
  // The SDK reports an empty payload as a signature failure, which would send the sender looking
  // in the wrong place.
  if (!rawBody) return refuse(400, "empty_body", "The request body is empty");

  if (signedInTheFuture(signature)) {
    services.log.warn("stripe.signature_rejected", { reason: "timestamp in the future" });
    return refuse(401, "bad_signature", "The signature or its timestamp is not valid");
  }
  let verified: unknown;
  try {
    verified = await Stripe.webhooks.constructEventAsync(
      rawBody,
      signature,
      secret,
      SIGNATURE_TOLERANCE_SECONDS,
      cryptoProvider,
    );
  } catch (error) {
    if (error instanceof Stripe.errors.StripeSignatureVerificationError) {
      services.log.warn("stripe.signature_rejected", { reason: error.message.slice(0, 200) });
      return refuse(401, "bad_signature", "The signature or its timestamp is not valid");
    }
    return refuse(400, "invalid_payload", "The signed body is not valid JSON");
  }
  const envelope = Envelope.safeParse(verified);
  if (!envelope.success) {
    const issue = envelope.error.issues[0];
    return refuse(
      400,
      "invalid_event",
      `The event ${issue.path.join(".") || "body"} ${issue.message}`,
    );
  }
  const outcome = await processStripeEvent(services, envelope.data, rawBody);
  return { status: 200, body: { status: outcome } };
}

/** Record a verified event and apply it, unless it was already recorded. */
export async function processStripeEvent(
  services: Pick<Services, "db" | "log" | "now" | "stripe">,
  event: StripeEventEnvelope,
  rawBody: string,
): Promise<EventOutcome> {
  const { log } = services;
  const outcome = await withTransaction(services.db, async (tx) => {
    if (!await recordDelivery(tx, event, rawBody, services.now())) return "duplicate" as const;
    return await applyRecordedEvent(tx, event, services);
  });
  const fields = { event_id: event.id, type: event.type };
  if (outcome === "duplicate") log.info("stripe.duplicate_delivery", fields);
  else if (outcome === "ignored") log.info("stripe.event_unhandled", fields);
  else if (outcome === "ok") log.info("stripe.processed", fields);
  return outcome;
}

/**
 * Insert the event's audit row; false when it is already there (a duplicate delivery, or a
 * concurrent one that committed first — the unique index makes this one wait for it).
 */
export async function recordDelivery(
  tx: Tx,
  event: StripeEventEnvelope,
  rawBody: string,
  receivedAt: Date,
): Promise<boolean> {
  const truncated = rawBody.length > STORED_PAYLOAD_MAX_CHARS;
  const inserted = await tx`
    insert into stripe_events (event_id, event_type, received_at, payload, payload_truncated)
    values (${event.id}, ${event.type}, ${receivedAt},
            ${truncated ? rawBody.slice(0, STORED_PAYLOAD_MAX_CHARS) : rawBody}, ${truncated})
    on conflict (event_id) do nothing
    returning id`;
  return inserted.length > 0;
}

/** Mark a recorded event as applied (or as needing nothing), clearing any earlier error. */
export async function markProcessed(tx: Tx, eventId: string, at: Date): Promise<void> {
  await tx`update stripe_events set processed_at = ${at}, error = null where event_id = ${eventId}`;
}

/**
 * Run an event's handler inside `tx` for an audit row that exists and is locked, and record the
 * result on it. Shared by first delivery and operator replay.
 */
export async function applyRecordedEvent(
  tx: Tx,
  event: StripeEventEnvelope,
  services: Pick<Services, "log" | "now" | "stripe">,
): Promise<"ok" | "ignored" | "handler_error"> {
  const handler = EVENT_HANDLERS.get(event.type);
  if (!handler) {
    await markProcessed(tx, event.id, services.now());
    return "ignored";
  }
  try {
    await withSavepoint(
      tx,
      (sp) =>
        handler({ tx: sp, event, log: services.log, now: services.now(), stripe: services.stripe }),
    );
  } catch (error) {
    if (isInfrastructureFailure(error)) throw error;
    services.log.error("stripe.handler_error", { event_id: event.id, type: event.type, error });
    await tx`
      update stripe_events set error = ${describe(error)}, processed_at = null
      where event_id = ${event.id}`;
    return "handler_error";
  }
  await markProcessed(tx, event.id, services.now());
  return "ok";
}

/**
 * Failures that are not the event's fault — the database or Stripe failing — must reach Stripe
 * as a 5xx, so it delivers the event again later.
 */
export function isInfrastructureFailure(error: unknown): boolean {
  // Stripe unreachable or failing on its side: worth asking again later.
  if (error instanceof Stripe.errors.StripeConnectionError) return true;
  if (error instanceof Stripe.errors.StripeAPIError) return true;
  return isDatabaseFailure(error);
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

/**
 * The SDK rejects signatures older than the tolerance but accepts any future timestamp; one more
 * than the tolerance ahead of our clock is as suspect as one behind it. (Wall-clock time, like
 * the SDK's check: freshness is about transport, not business time.)
 */
function signedInTheFuture(signature: string): boolean {
  const timestamp = Number(/(?:^|,)\s*t=(\d+)/.exec(signature)?.[1]);
  return Number.isFinite(timestamp) && timestamp - Date.now() / 1000 > SIGNATURE_TOLERANCE_SECONDS;
}

function refuse(status: number, error: string, message: string): WebhookAnswer {
  return { status, body: { error, message } };
}
