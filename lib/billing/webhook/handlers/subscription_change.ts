/**
 * What the three `customer.subscription.*` events share: validate the subscription, lock its
 * person, record the state if it is newer than what we know, cancel a second live subscription,
 * and recompute what the person has.
 */
import {
  type RecordedSubscription,
  recordSubscription,
  type SubscriptionChange,
  subscriptionRead,
  type SubscriptionSnapshot,
} from "../../subscriptions.ts";
import { cadenceOf } from "../../plans.ts";
import { monthlyReminderNotice, noticeJob } from "../../../notices/send.ts";
import type { NewJob } from "../../../jobs/queue.ts";
import { lockPerson, refreshPerson } from "../../entitlement.ts";
import type { User } from "../../../auth/users.ts";
import { isLive, resolveDuplicates } from "../../duplicates.ts";
import { SubscriptionObject } from "./objects.ts";
import {
  AskStripeFirst,
  type EventContext,
  type EventHandler,
  personNotFound,
  type PrepareServices,
} from "./context.ts";
import type { StripeEventEnvelope } from "../verify.ts";

interface Prepared {
  snapshot: SubscriptionSnapshot;
  /** The Stripe customer the event names. */
  customer: string;
  /** Stripe's current view, rather than the event's. */
  fromStripe: boolean;
}

/** The person, locked. */
type Locked = User | null;
/** The subscription as recorded before this event. */
type Found = RecordedSubscription | null;

export function subscriptionChange(
  change: SubscriptionChange,
): EventHandler<Prepared, Locked, Found> {
  return {
    prepare: (event, services, { fresh }) => settledSnapshot(event, services, change, fresh),
    lock: (tx, _event, { customer }) => lockPerson(tx, { customerId: customer }),
    // Asked after the person's lock is held (statements run in order), so it is current.
    readWithClaim: (_event, { snapshot }) => subscriptionRead(snapshot.id),
    async apply(ctx) {
      const { snapshot, fromStripe } = ctx.prepared;
      const { locked: user, found: before } = ctx;
      if (!user) return personNotFound(ctx, ctx.prepared.customer);
      const eventCreatedAt = new Date(ctx.event.created * 1000);
      // The state recorded came from an update of the same second (checked under the lock), which
      // cannot be ordered against this one: only Stripe can say which is current.
      if (
        change === "updated" && !fromStripe && ctx.canAskStripe &&
        before?.lastEventAt.getTime() === eventCreatedAt.getTime()
      ) {
        throw new AskStripeFirst();
      }
      // The notices it owes are enqueued by the statement that records the change, if it does.
      const owed = { jobs: noticesOwed(ctx, user.id, snapshot, before, change), now: ctx.now };
      const record = () =>
        recordSubscription(ctx.tx, user.id, snapshot, change, eventCreatedAt, owed);
      const applied = () =>
        ctx.log.info("stripe.subscription_applied", {
          event_id: ctx.event.id,
          user_id: user.id,
          subscription_id: snapshot.id,
          status: snapshot.status,
        });
      const stale = () =>
        ctx.log.info("stripe.stale_event", {
          event_id: ctx.event.id,
          subscription_id: snapshot.id,
          reason: "an equal or newer state is already recorded, or the subscription ended",
        });
      // A subscription that was already live adds no second one, so the person's projection is
      // recomputed together with the change (after a stale event it finds nothing to change),
      // and both go with the COMMIT.
      if (before !== null && isLive(before)) {
        ctx.sendWithCommit(
          Promise.all([record(), refreshPerson(ctx.tx, user.id)])
            .then(([stored]) => stored ? applied() : stale()),
        );
        return;
      }
      // A new or revived one is checked for a duplicate first.
      if (!await record()) return stale();
      await resolveDuplicates(ctx.tx, user.id, ctx.now, ctx.log);
      await refreshPerson(ctx.tx, user.id);
      applied();
    },
  };
}

/**
 * The subscription as the event says — unless the handler found, under the person's lock, that
 * the state recorded came from an event of the same second, which cannot be ordered against this
 * one (Stripe delivers them in any order): then as Stripe says it is now, asked before the
 * transaction opens again.
 */
async function settledSnapshot(
  event: StripeEventEnvelope,
  services: PrepareServices,
  change: SubscriptionChange,
  fresh: boolean,
): Promise<Prepared> {
  const subscription = SubscriptionObject.parse(event.data.object);
  const { customer } = subscription;
  if (change === "updated" && services.stripe && fresh) {
    const current = await services.stripe!.subscriptions.retrieve(subscription.id);
    const snapshot = snapshotOf(SubscriptionObject.parse(current), change);
    return { snapshot, customer, fromStripe: true };
  }
  return { snapshot: snapshotOf(subscription, change), customer, fromStripe: false };
}

export function snapshotOf(
  subscription: SubscriptionObject,
  change: SubscriptionChange,
): SubscriptionSnapshot {
  const item = subscription.items?.data[0];
  const seconds = (value: number | null | undefined) => value ? new Date(value * 1000) : null;
  return {
    id: subscription.id,
    status: change === "deleted" ? "canceled" : subscription.status,
    startedAt: seconds(subscription.created),
    trialEnd: seconds(subscription.trial_end),
    currentPeriodEnd: seconds(item?.current_period_end),
    cancelAtPeriodEnd: subscription.cancel_at_period_end ?? false,
    priceId: item?.price?.id ?? null,
    amount: item?.price?.unitAmount == null ? null : item.price.unitAmount * (item.quantity ?? 1),
    currency: item?.price?.currency ?? null,
    cancellationReason: subscription.cancellation_details?.reason ?? null,
  };
}

/**
 * The notices a change owes once it is recorded, as the jobs that send them: an acknowledgement
 * when the subscriber cancels (set to end, or ended at their request — not a duplicate the app
 * cancelled), and the six-monthly reminders of a monthly plan, scheduled from its start.
 */
function noticesOwed(
  ctx: EventContext<Prepared, Locked, Found>,
  userId: number,
  snapshot: SubscriptionSnapshot,
  before: RecordedSubscription | null,
  change: SubscriptionChange,
): NewJob[] {
  const owed: NewJob[] = [];
  const trigger = `${snapshot.id}:cancelled:${ctx.event.id}`;
  const trial = before?.status === "trialing" || snapshot.status === "trialing";
  if (change !== "deleted" && snapshot.cancelAtPeriodEnd && !before?.cancelAtPeriodEnd) {
    const endsOn = (trial ? snapshot.trialEnd : null) ?? snapshot.currentPeriodEnd;
    owed.push(noticeJob({
      kind: "cancellation_confirmed",
      userId,
      trigger,
      data: { endsOn: endsOn?.toISOString() ?? null, trial },
    }));
  }
  const requested = snapshot.cancellationReason === "cancellation_requested";
  if (change === "deleted" && requested && !before?.cancelAtPeriodEnd && !before?.duplicateOf) {
    owed.push(noticeJob({
      kind: "cancellation_confirmed",
      userId,
      trigger,
      data: { endsOn: null, trial },
    }));
  }
  // Scheduled when the subscription becomes active; later updates find it there already.
  const { startedAt } = snapshot;
  if (
    snapshot.status === "active" && before?.status !== "active" && startedAt &&
    cadenceOf(ctx.config, snapshot.priceId) === "monthly"
  ) {
    owed.push(noticeJob(monthlyReminderNotice({ id: snapshot.id, userId, startedAt }, 1)));
  }
  return owed;
}
