/** What every event handler is given, and what they share. */
import type Stripe from "stripe";
import type { Queryable, Tx } from "../../../db/client.ts";
import type { Logger } from "../../../log.ts";
import type { Config } from "../../../config.ts";
import type { StripeEventEnvelope } from "../verify.ts";
import type { Read } from "../../../db/reads.ts";

export interface EventContext<Prepared = unknown, Locked = unknown, Found = unknown> {
  tx: Tx;
  config: Pick<Config, "stripe" | "pastDueGraceDays" | "referralRewardsPerYear">;
  event: StripeEventEnvelope;
  log: Logger;
  now: Date;
  /** What the handler's `prepare` fetched before the transaction opened. */
  prepared: Prepared;
  /** What the handler's `lock` found (undefined for a handler without one). */
  locked: Locked;
  /** The answer to the handler's `readWithClaim` (undefined for a handler without one). */
  found: Found;
  /** Whether Stripe can be asked (see `AskStripeFirst`). */
  canAskStripe: boolean;
  /**
   * Hand over the handler's last statements rather than await them: they reach the server with
   * the COMMIT, in one round trip. Only for statements whose results the handler does not need;
   * one that fails turns the COMMIT into a rollback, and the delivery fails as if it had thrown.
   */
  sendWithCommit(statements: Promise<unknown>): void;
}

/**
 * Thrown by `apply` when what it found under the person's lock needs Stripe's current view after
 * all: the transaction rolls back, `prepare` runs again with `fresh`, and the event is applied
 * once more — so Stripe is still never asked while a transaction is open.
 */
export class AskStripeFirst extends Error {
  override name = "AskStripeFirst";
}

/** What `prepare` may use: the database for a quick look, and Stripe. */
export interface PrepareServices {
  db: Queryable;
  stripe: Stripe | null;
}

/**
 * A handler: `apply` runs inside the webhook's transaction and never calls Stripe (it would hold
 * the person's row lock and a connection while it waits); whatever it needs from Stripe,
 * `prepare` fetches first, outside any transaction.
 */
export interface EventHandler<Prepared = unknown, Locked = unknown, Found = unknown> {
  /** `fresh`: the handler asked (`AskStripeFirst`) for Stripe's current view. */
  prepare?(
    event: StripeEventEnvelope,
    services: PrepareServices,
    options: { fresh: boolean },
  ): Promise<Prepared>;
  /**
   * The handler's first statements — lock its person — sent right ahead of the audit row's
   * insert, so both reach the server in one round trip. Locks and reads only: they run for a
   * duplicate delivery too, whose transaction then changes nothing. `apply` gets what they found
   * as `ctx.locked`.
   */
  lock?(tx: Tx, event: StripeEventEnvelope, prepared: Prepared): Promise<Locked>;
  /**
   * What the handler reads of what it will change, asked in the statement that inserts the audit
   * row: a statement fewer, and one that runs after `lock`'s, so its answer is current under the
   * person's lock. `apply` gets it as `ctx.found`.
   */
  readWithClaim?(event: StripeEventEnvelope, prepared: Prepared): Read<Found>;
  apply(ctx: EventContext<Prepared, Locked, Found>): Promise<void>;
}

/** Every handler logs the same line when the person an event is about has no account here. */
export function personNotFound(ctx: EventContext, customerId: string | null | undefined): void {
  ctx.log.warn("stripe.user_not_found", {
    event_id: ctx.event.id,
    event_type: ctx.event.type,
    customer_id: customerId ?? null,
  });
}
