/**
 * The simulator's scheduler: every moment at which Stripe would act on its own — a checkout
 * session expiring, `trial_will_end` three days before a trial ends, `invoice.upcoming` before a
 * renewal, the end of a trial or period, the retry of a failed payment — applied in time order
 * across all objects, each stamped with its own time.
 *
 * Moments happen when the clock is moved (`advanceClock`), and also whenever the simulator is
 * next used after its clock has passed them: with a real clock, a session left open for a day
 * is expired by the first request after that day.
 */
import { isLive, reachPeriodEnd, TRIAL_WARNING_SECONDS, warnOfTrialEnd } from "./billing.ts";
import { collect, subscriptionOf } from "./collection.ts";
import { SimulatorError } from "./errors.ts";
import { itemOf, type Subscription, unix } from "./objects.ts";
import { DAY_SECONDS } from "./periods.ts";
import { previewRenewal } from "./proration.ts";
import type { Store } from "./store.ts";

interface Moment {
  at: number;
  /** Moments due at the same second happen in this order. */
  rank: number;
  apply(): void;
}

/** Every moment due at or before `until`, whichever is earliest first. */
function nextMoment(store: Store, until: number): Moment | null {
  let next: Moment | null = null;
  const consider = (moment: Moment) => {
    if (moment.at > until) return;
    if (!next || moment.at < next.at || (moment.at === next.at && moment.rank < next.rank)) {
      next = moment;
    }
  };
  for (const record of store.checkouts.values()) {
    const { session } = record;
    if (session.status !== "open") continue;
    consider({
      at: session.expires_at,
      rank: 0,
      apply() {
        session.status = "expired";
        store.emit("checkout.session.expired", session);
      },
    });
  }
  for (const subscription of store.subscriptions.values()) {
    for (const moment of subscriptionMoments(store, subscription)) consider(moment);
  }
  for (const invoice of store.invoices.values()) {
    const at = invoice.next_payment_attempt;
    if (invoice.status !== "open" || at === null) continue;
    const subscription = store.subscriptions.get(subscriptionOf(invoice))!;
    if (!isLive(subscription) || subscription.status === "paused") continue;
    consider({
      at,
      rank: 3,
      apply: () => collect(store, invoice, subscription, { description: "Payment retry" }),
    });
  }
  return next;
}

function subscriptionMoments(store: Store, subscription: Subscription): Moment[] {
  const status = subscription.status;
  if (!["trialing", "active", "past_due", "unpaid"].includes(status)) return [];
  const periodEnd = itemOf(subscription).current_period_end;
  const moments: Moment[] = [];
  const trialEnd = subscription.trial_end;
  if (
    status === "trialing" && trialEnd !== null &&
    store.trialWarnings.get(subscription.id) !== trialEnd
  ) {
    moments.push({
      at: trialEnd - TRIAL_WARNING_SECONDS,
      rank: 1,
      apply: () => warnOfTrialEnd(store, subscription),
    });
  }
  if (
    (status === "active" || status === "past_due") && !subscription.cancel_at_period_end &&
    store.upcomingNotices.get(subscription.id) !== periodEnd
  ) {
    const start = itemOf(subscription).current_period_start;
    moments.push({
      at: Math.max(start, periodEnd - store.settings.upcomingInvoiceDays * DAY_SECONDS),
      rank: 2,
      apply() {
        store.upcomingNotices.set(subscription.id, periodEnd);
        // The upcoming invoice does not exist yet, so it has no id.
        const { id: _none, ...upcoming } = previewRenewal(store, subscription);
        store.emit("invoice.upcoming", upcoming);
      },
    });
  }
  moments.push({ at: periodEnd, rank: 4, apply: () => reachPeriodEnd(store, subscription) });
  return moments;
}

/** No loop of moments is this long; one that is would never end. */
const MAX_MOMENTS = 100_000;

/** Apply, in time order and each at its own time, every moment up to `until` (Unix seconds). */
function applyMomentsUntil(store: Store, until: number): void {
  for (let count = 0;; count++) {
    if (count === MAX_MOMENTS) throw new Error("The simulator's scheduler did not settle.");
    const moment = nextMoment(store, until);
    if (!moment) return;
    store.at(moment.at, moment.apply);
  }
}

/** Whatever the clock has passed since the simulator was last used. */
export function catchUp(store: Store): void {
  applyMomentsUntil(store, store.nowUnix());
}

/** Move the clock forward to `to`, applying every moment on the way. */
export function advanceClock(store: Store, to: Date): void {
  if (Number.isNaN(to.getTime())) throw new SimulatorError("Not a valid date.");
  if (to.getTime() < store.now().getTime()) {
    throw new SimulatorError(
      `The simulator's clock is at ${store.now().toISOString()} and cannot go back to ` +
        to.toISOString(),
    );
  }
  applyMomentsUntil(store, unix(to));
  store.advanceTo(to);
}

/**
 * Move the clock to `to`, or by default to the subscription's next trial end or period end,
 * applying everything due on the way — for this subscription and every other.
 */
export function advanceSubscription(
  store: Store,
  subscription: Subscription,
  to?: Date,
): Subscription {
  if (!isLive(subscription)) {
    throw new SimulatorError(
      `Subscription ${subscription.id} is ${subscription.status}; nothing happens next.`,
    );
  }
  advanceClock(store, to ?? new Date(itemOf(subscription).current_period_end * 1000));
  return subscription;
}
