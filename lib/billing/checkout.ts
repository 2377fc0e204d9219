/**
 * Starting a subscription: Stripe Checkout for one of the two plans. The server enforces the
 * Reg-36 waiver for monthly plans and records it as evidence, in the transaction that decides to
 * hand out the Checkout URL, before the person is sent to pay;
 * nobody with a live subscription can start a second one.
 */
import type Stripe from "stripe";
import type { Services } from "../services.ts";
import type { Logger } from "../log.ts";
import type { User } from "../auth/users.ts";
import { withTransaction } from "../db/client.ts";
import { DomainError } from "../domain_error.ts";
import { ANNUAL_TRIAL_DAYS, type Cadence, LIVE_STATUSES, priceFor } from "./plans.ts";
import { REG36_WAIVER } from "./waiver.ts";
import { ensureStripeCustomer } from "./customers.ts";
import { lockPerson } from "./entitlement.ts";
import { requireStripe, stripeFailure } from "./stripe_calls.ts";

export interface CheckoutRequest {
  cadence: Cadence;
  reg36Waiver: boolean;
}

export interface RequestOrigin {
  ip: string;
  userAgent: string | null;
}

type CheckoutServices = Pick<Services, "config" | "db" | "stripe" | "log" | "now">;

export async function startCheckout(
  services: CheckoutServices,
  user: User,
  request: CheckoutRequest,
  origin: RequestOrigin,
): Promise<{ url: string }> {
  const { config, db, log } = services;
  const stripe = requireStripe(services);
  const price = priceFor(config, request.cadence);
  if (request.cadence === "monthly" && request.reg36Waiver !== true) {
    throw new DomainError(
      "invalid",
      "reg36_waiver_required",
      "A monthly plan starts at once: tick the box to confirm you want immediate access and " +
        "understand you lose the 14-day right to cancel",
    );
  }
  assertNoLiveSubscription(user);

  // No transaction spans a Stripe call: a slow or stuck Stripe must not hold a database
  // connection for the length of the SDK's timeout, or a few waiting checkouts would starve the
  // pool that webhooks and pages share.
  const customer = await callStripe(log, user, () => ensureStripeCustomer(db, stripe, user));
  const session = await callStripe(log, user, async () => {
    const created = await stripe.checkout.sessions.create(
      checkoutParams(config.siteUrl, user, customer, price, request.cadence),
    );
    if (!created.url) throw new Error("Stripe returned a Checkout session without a URL");
    return { id: created.id, url: created.url };
  });
  // One short transaction decides to hand out the session and stores the waiver evidence with
  // that decision: no evidence, no URL. A webhook may have started a subscription meanwhile;
  // the person's row lock orders this check against it (an abandoned session simply expires).
  await withTransaction(db, async (tx) => {
    const current = await lockPerson(tx, { userId: user.id });
    assertNoLiveSubscription(current!);
    if (request.cadence === "monthly") {
      await tx`
        insert into consents (user_id, kind, text_version, accepted_at, ip, user_agent,
                              checkout_session_id)
        values (${user.id}, 'reg36_waiver', ${REG36_WAIVER.version}, ${services.now()},
                ${origin.ip}, ${origin.userAgent?.slice(0, 512) ?? null}, ${session.id})`;
    }
  });
  log.info("stripe.checkout.created", {
    user_id: user.id,
    session_id: session.id,
    cadence: request.cadence,
  });
  return { url: session.url };
}

/** A Stripe API call; its failure says whether Stripe refused or was away. */
async function callStripe<T>(log: Logger, user: User, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    log.error("stripe.checkout.create_failed", { user_id: user.id, error });
    throw stripeFailure(error);
  }
}

function checkoutParams(
  siteUrl: string,
  user: User,
  customer: string,
  price: string,
  cadence: Cadence,
): Stripe.Checkout.SessionCreateParams {
  return {
    mode: "subscription",
    line_items: [{ price, quantity: 1 }],
    customer,
    client_reference_id: String(user.id),
    success_url: `${siteUrl}/settings?upgraded=1`,
    cancel_url: `${siteUrl}/pricing`,
    allow_promotion_codes: true,
    metadata: { user_id: String(user.id), cadence },
    ...(cadence === "annual"
      ? { subscription_data: { trial_period_days: ANNUAL_TRIAL_DAYS } }
      : {}),
  };
}

function assertNoLiveSubscription(user: User) {
  if (user.stripeSubscriptionId && LIVE_STATUSES.has(user.stripeSubscriptionStatus ?? "")) {
    throw new DomainError(
      "conflict",
      "already_subscribed",
      "You already have a subscription. Manage it from the billing portal in your settings.",
    );
  }
}
