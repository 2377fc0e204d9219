/**
 * A webhook delivery as Stripe sent it, turned into a verified event or a refusal: the signature
 * checked against `STRIPE_WEBHOOK_SECRET` (timestamps more than 300 s away either way refused),
 * then the envelope every event must have — validated here, and only here.
 */
import Stripe from "stripe";
import { createHmac } from "node:crypto";
import { sha256 } from "../../crypto.ts";
import { z } from "zod";
import { DomainError } from "../../domain_error.ts";
import { hasControlCharacters } from "../../text.ts";
import type { Logger } from "../../log.ts";

export const SIGNATURE_TOLERANCE_SECONDS = 300;

// PostgreSQL text cannot hold NUL, and no Stripe id or type has any control character.
const printable = (field: string) =>
  z.string().min(1, `has no ${field}`).max(255).refine(
    (value) => !hasControlCharacters(value),
    "has control characters",
  );

const Envelope = z.object({
  id: printable("id"),
  type: printable("type"),
  created: z.number().int().nonnegative(),
  data: z.object({ object: z.record(z.string(), z.unknown()) }),
});

/** The parts of a Stripe event every handler can rely on. */
export type StripeEventEnvelope = z.infer<typeof Envelope>;

/**
 * The envelope of a signed (or stored) event, or an `invalid_event` refusal saying which part is
 * missing or wrong.
 */
export function parseEnvelope(value: unknown): StripeEventEnvelope {
  const envelope = Envelope.safeParse(value);
  if (envelope.success) return envelope.data;
  const issue = envelope.error.issues[0];
  throw new DomainError(
    "invalid",
    "invalid_event",
    `The event ${issue.path.join(".") || "body"} ${issue.message}`,
  );
}

/**
 * The SDK's signature check, with its HMAC computed by `node:crypto` in place: the SDK's own
 * choice outside Node (`crypto.subtle`, importing the key for every delivery) costs several
 * times as much, on every webhook.
 */
class InPlaceCryptoProvider extends Stripe.CryptoProvider {
  override computeHMACSignature(payload: string, secret: string): string {
    return createHmac("sha256", secret).update(payload, "utf8").digest("hex");
  }
  override computeHMACSignatureAsync(payload: string, secret: string): Promise<string> {
    return Promise.resolve(this.computeHMACSignature(payload, secret));
  }
  override computeSHA256Async(data: Uint8Array): Promise<Uint8Array> {
    return sha256(data);
  }
}

const cryptoProvider = new InPlaceCryptoProvider();

/**
 * The event in `rawBody`, if `signature` proves Stripe sent it with `secret`; otherwise a
 * `DomainError` naming the refusal (`missing_signature`, `bad_signature`, `invalid_event`…).
 */
export async function verifyStripeEvent(
  secret: string | null,
  rawBody: string,
  signature: string | null,
  log: Logger,
): Promise<StripeEventEnvelope> {
  if (!secret) {
    throw new DomainError(
      "not_configured",
      "webhook_not_configured",
      "STRIPE_WEBHOOK_SECRET is not set",
    );
  }
  if (!signature) {
    throw new DomainError("invalid", "missing_signature", "The Stripe-Signature header is missing");
  }
  // The SDK reports an empty payload as a signature failure, which would send the sender looking
  // in the wrong place.
  if (!rawBody) throw new DomainError("invalid", "empty_body", "The request body is empty");

  if (signedInTheFuture(signature)) {
    log.warn("stripe.signature_rejected", { reason: "timestamp in the future" });
    throw badSignature();
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
      log.warn("stripe.signature_rejected", { reason: error.message.slice(0, 200) });
      throw badSignature();
    }
    throw new DomainError("invalid", "invalid_payload", "The signed body is not valid JSON");
  }
  return parseEnvelope(verified);
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

function badSignature(): DomainError {
  return new DomainError(
    "unauthenticated",
    "bad_signature",
    "The signature or its timestamp is not valid",
  );
}
