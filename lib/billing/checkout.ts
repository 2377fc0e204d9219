/**
 * Starting a subscription: Stripe Checkout for one of the two plans.
 *
 * - The server enforces the Reg-36 waiver for monthly plans and records it as evidence, in the
 *   transaction that decides to hand out the Checkout URL, before the person is sent to pay.
 * - One subscription per person: refused while any subscription of theirs has not ended — by
 *   what we recorded and by what Stripe says (its events may not have arrived yet) — and the
 *   person's earlier open Checkout sessions are expired, so only the newest can be paid.
 * - One free trial per person: the annual plan's trial only for someone who never had a
 *   subscription; afterwards annual bills at once.
 * - A person going back and forth gets the Checkout session they already have for the same plan
 *   (and, for monthly, the waiver already recorded for it); attempts are limited per person, so
 *   one account cannot flood Stripe with sessions.
 */
import type Stripe from "stripe";
import type { Services } from "../services.ts";
import type { User } from "../auth/users.ts";
import { type Queryable, withTransaction } from "../db/client.ts";
import { DomainError } from "../domain_error.ts";
import { ANNUAL_TRIAL_DAYS, type Cadence, priceFor } from "./plans.ts";
import { REG36_WAIVER } from "./waiver.ts";
import { ensureStripeCustomer, forgetMissingCustomer, isMissingCustomer } from "./customers.ts";
import { lockPerson } from "./entitlement.ts";
import { ENDED_STATUSES, hasHadSubscription, subscriptionsOf } from "./subscriptions.ts";
import { callStripe, requireStripe } from "./stripe_calls.ts";
import { limitBillingSessions } from "./limits.ts";

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
): Promise<{ url: string; trial: boolean }> {
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
  await assertNoLiveSubscription(db, user.id);
  await limitBillingSessions(services, user.id, "checkout");

  // No transaction spans a Stripe call: a slow or stuck Stripe must not hold a database
  // connection for the length of the SDK's timeout, or a few waiting checkouts would starve the
  // pool that webhooks and pages share.
  const { customer, history } = await callStripe(
    log,
    "stripe.checkout.create_failed",
    user.id,
    async () => {
      let person = user;
      for (;;) {
        const customer = await ensureStripeCustomer(db, stripe, person, services.now());
        try {
          return { customer, history: await stripeHistory(stripe, customer) };
        } catch (error) {
          // A customer deleted in Stripe is replaced, once, instead of failing every checkout.
          if (person !== user || !isMissingCustomer(error, customer)) throw error;
          person = await forgetMissingCustomer(db, person, customer);
          log.warn("stripe.customer_replaced", { user_id: user.id, customer_id: customer });
        }
      }
    },
  );
  if (history.live) throw alreadySubscribed();
  const trial = request.cadence === "annual" && !history.any &&
    !await hasHadSubscription(db, user.id);

  const reusable = await reusableSession(db, user.id, history.openSessions, request.cadence, trial);
  const stale = history.openSessions.filter((open) => open.id !== reusable?.id);
  if (reusable) {
    await callStripe(log, "stripe.checkout.create_failed", user.id, async () => {
      for (const open of stale) await expireOpenSession(stripe, open.id);
    });
    log.info("stripe.checkout.reused", { user_id: user.id, session_id: reusable.id, trial });
    return { url: reusable.url, trial };
  }

  const session = await callStripe(log, "stripe.checkout.create_failed", user.id, async () => {
    for (const open of stale) await expireOpenSession(stripe, open.id);
    const created = await stripe.checkout.sessions.create(
      checkoutParams(config.siteUrl, user, customer, price, request.cadence, trial),
    );
    if (!created.url) throw new Error("Stripe returned a Checkout session without a URL");
    return { id: created.id, url: created.url };
  });
  // One short transaction decides to hand out the session and stores the waiver evidence with
  // that decision: no evidence, no URL. A webhook may have started a subscription meanwhile;
  // the person's row lock orders this check against it (an abandoned session simply expires).
  await withTransaction(db, async (tx) => {
    await lockPerson(tx, { userId: user.id });
    await assertNoLiveSubscription(tx, user.id);
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
    trial,
    expired_sessions: history.openSessions.length,
  });
  return { url: session.url, trial };
}

/**
 * Expires an earlier Checkout session. A checkout running alongside may have expired it first,
 * which is what we wanted; if it was paid meanwhile the person has just subscribed.
 */
export async function expireOpenSession(stripe: Stripe, id: string): Promise<void> {
  try {
    await stripe.checkout.sessions.expire(id);
  } catch (error) {
    const { status } = await stripe.checkout.sessions.retrieve(id);
    if (status === "expired") return;
    if (status === "complete") throw alreadySubscribed();
    throw error;
  }
}

interface OpenSession {
  id: string;
  url: string | null;
  cadence: string | null;
  trial: boolean | null;
}

/** What Stripe knows of the customer's subscriptions and open Checkout sessions. */
async function stripeHistory(stripe: Stripe, customer: string) {
  const subscriptions = await stripe.subscriptions.list({ customer, status: "all", limit: 100 });
  const sessions = await stripe.checkout.sessions.list({ customer, status: "open", limit: 100 });
  return {
    any: subscriptions.data.length > 0,
    live: subscriptions.data.some((s) => !ENDED_STATUSES.has(s.status)),
    openSessions: sessions.data.map((s): OpenSession => ({
      id: s.id,
      url: s.url,
      cadence: s.metadata?.cadence ?? null,
      trial: s.metadata?.trial === undefined ? null : s.metadata.trial === "yes",
    })),
  };
}

/**
 * An open session this request may hand out again: the same plan on the same terms, and for
 * monthly, one whose waiver evidence (the current text) is already recorded.
 */
async function reusableSession(
  db: Queryable,
  userId: number,
  open: OpenSession[],
  cadence: Cadence,
  trial: boolean,
): Promise<(OpenSession & { url: string }) | null> {
  for (const session of open) {
    if (!session.url || session.cadence !== cadence || session.trial !== trial) continue;
    if (cadence === "monthly") {
      const [waiver] = await db`
        select 1 from consents
        where user_id = ${userId} and checkout_session_id = ${session.id}
          and kind = 'reg36_waiver' and text_version = ${REG36_WAIVER.version}`;
      if (!waiver) continue;
    }
    return { ...session, url: session.url };
  }
  return null;
}

function checkoutParams(
  siteUrl: string,
  user: User,
  customer: string,
  price: string,
  cadence: Cadence,
  trial: boolean,
): Stripe.Checkout.SessionCreateParams {
  return {
    mode: "subscription",
    line_items: [{ price, quantity: 1 }],
    customer,
    client_reference_id: String(user.id),
    success_url: `${siteUrl}/settings?upgraded=1`,
    cancel_url: `${siteUrl}/pricing`,
    allow_promotion_codes: true,
    metadata: { user_id: String(user.id), cadence, trial: trial ? "yes" : "no" },
    ...(trial
      ? {
        subscription_data: {
          trial_period_days: ANNUAL_TRIAL_DAYS,
          // A trial whose card was removed pauses rather than turning into a failed charge.
          trial_settings: { end_behavior: { missing_payment_method: "pause" } },
        },
      }
      : {}),
  };
}

async function assertNoLiveSubscription(db: Parameters<typeof subscriptionsOf>[0], userId: number) {
  const recorded = await subscriptionsOf(db, userId);
  if (recorded.some((s) => s.endedAt === null)) throw alreadySubscribed();
}

function alreadySubscribed(): DomainError {
  return new DomainError(
    "conflict",
    "already_subscribed",
    "You already have a subscription. Manage it from the billing portal in your settings.",
  );
}
