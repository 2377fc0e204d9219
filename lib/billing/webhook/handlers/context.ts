/** What every event handler is given, and what they share. */
import type Stripe from "stripe";
import type { Tx } from "../../../db/client.ts";
import type { Logger } from "../../../log.ts";
import type { StripeEventEnvelope } from "../verify.ts";

export interface EventContext {
  tx: Tx;
  event: StripeEventEnvelope;
  log: Logger;
  now: Date;
  /** For asking Stripe what is current when events alone cannot tell; null if unavailable. */
  stripe: Stripe | null;
}

export type EventHandler = (ctx: EventContext) => Promise<void>;

/** Every handler logs the same line when the person an event is about has no account here. */
export function personNotFound(ctx: EventContext, customerId: string | null | undefined): void {
  ctx.log.warn("stripe.user_not_found", {
    event_id: ctx.event.id,
    event_type: ctx.event.type,
    customer_id: customerId ?? null,
  });
}
