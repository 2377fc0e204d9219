/**
 * Everything the settings page shows about a person's plan, access and referrals, computed in
 * one place from the database (the page only renders it): what the plan is, what happens next
 * with it in words and dates, and what the person can do about it.
 */
import type { Services } from "../services.ts";
import type { User } from "../auth/users.ts";
import { type Cadence, cadenceOf } from "../billing/plans.ts";
import { liveSubscriptionRead } from "../billing/manage.ts";
import { hadSubscriptionRead, type RecordedSubscription } from "../billing/subscriptions.ts";
import { creditDaysLeft } from "../referrals/credits.ts";
import { hasPaidAccess, pastDueAccessEnds } from "../billing/entitlement.ts";
import {
  creditHistoryRead,
  type CreditLine,
  type ReferralStats,
  referralStatsRead,
  type RewardAllowance,
  rewardAllowanceRead,
} from "../referrals/stats.ts";
import { pendingChargeMoveRead } from "../billing/next_charge.ts";
import { wholeDaysUntil } from "../time.ts";
import { known, readAtOnce } from "../db/reads.ts";

export interface Money {
  amount: number;
  currency: string;
}

/** The plan, and the one sentence about what happens next with it. */
export type PlanView =
  | { kind: "free" }
  /**
   * In good standing: renews on `on` for `price`, unless set to end then; `movedDays`: referral
   * credit moved that date back by so many days.
   */
  | {
    kind: "renews";
    cadence: Cadence | null;
    on: Date | null;
    price: Money | null;
    movedDays: number;
  }
  | { kind: "ends"; cadence: Cadence | null; on: Date | null; trial: boolean }
  /** A free trial: `price` is charged on `on` when it ends. */
  | { kind: "trial"; cadence: Cadence | null; daysLeft: number; on: Date; price: Money | null }
  /** A payment failed; Stripe retries until `accessEnds` at most. */
  | { kind: "past_due"; cadence: Cadence | null; accessEnds: Date | null }
  /** A subscription that gives no access: unpaid, paused, incomplete. */
  | { kind: "no_access"; cadence: Cadence | null; status: string };

export interface AccountOverview {
  plan: PlanView;
  hasPaidAccess: boolean;
  creditDaysLeft: number;
  creditUntil: Date | null;
  hasBillingAccount: boolean;
  /** Offers: cancel, resume, switch to annual. */
  canCancel: boolean;
  canResume: boolean;
  canUpgrade: boolean;
  /** Whether the annual plan would start with a free trial (never had a subscription). */
  trialAvailable: boolean;
  referralLink: string;
  referrals: ReferralStats;
  rewardAllowance: RewardAllowance;
  credits: CreditLine[];
}

export async function accountOverview(
  services: Pick<Services, "config" | "db">,
  user: User,
  now: Date,
): Promise<AccountOverview> {
  const { config } = services;
  // One statement for all of it: one round trip, and one snapshot of the person's account.
  const [subscription, moved, hadSubscription, referrals, allowance, credits] = await readAtOnce(
    services.db,
    [
      liveSubscriptionRead(user),
      user.stripeSubscriptionId
        ? pendingChargeMoveRead(user.stripeSubscriptionId, now)
        : known(null),
      hadSubscriptionRead(user.id),
      referralStatsRead(user.id, now),
      rewardAllowanceRead(user.id, now, config.referralRewardsPerYear),
      creditHistoryRead(user.id),
    ],
  );
  const plan: PlanView = subscription
    ? planOf(services.config, user, subscription, moved, now)
    : { kind: "free" };
  const live = plan.kind !== "free";
  return {
    plan,
    hasPaidAccess: hasPaidAccess(user, now, services.config.pastDueGraceDays),
    creditDaysLeft: creditDaysLeft(user, now),
    creditUntil: user.creditUntil,
    hasBillingAccount: user.stripeCustomerId !== null,
    canCancel: live && subscription?.cancelAtPeriodEnd === false,
    canResume: subscription?.cancelAtPeriodEnd === true,
    // A charge moved by credit is a trial to Stripe, where a switch would not bill what the
    // preview shows: the switch waits until the subscription is active again.
    canUpgrade: plan.kind === "renews" && plan.cadence === "monthly" &&
      subscription?.status === "active",
    trialAvailable: !hadSubscription,
    referralLink: `${config.siteUrl}/r/${user.referralCode}`,
    referrals,
    rewardAllowance: allowance,
    credits,
  };
}

function planOf(
  config: Services["config"],
  user: User,
  subscription: RecordedSubscription,
  moved: { due: Date; days: number } | null,
  now: Date,
): PlanView {
  const cadence = cadenceOf(config, subscription.priceId);
  const price = subscription.amount !== null && subscription.currency
    ? { amount: subscription.amount, currency: subscription.currency }
    : null;
  const live = subscription.status === "trialing" || subscription.status === "active";
  if (moved && live && !subscription.cancelAtPeriodEnd) {
    return { kind: "renews", cadence, on: moved.due, price, movedDays: moved.days };
  }
  switch (subscription.status) {
    case "trialing": {
      const on = subscription.trialEndAt ?? subscription.currentPeriodEnd ?? now;
      if (subscription.cancelAtPeriodEnd) return { kind: "ends", cadence, on, trial: true };
      return { kind: "trial", cadence, daysLeft: wholeDaysUntil(on, now), on, price };
    }
    case "active": {
      const on = subscription.currentPeriodEnd;
      if (subscription.cancelAtPeriodEnd) return { kind: "ends", cadence, on, trial: false };
      return { kind: "renews", cadence, on, price, movedDays: 0 };
    }
    case "past_due":
      return {
        kind: "past_due",
        cadence,
        accessEnds: pastDueAccessEnds(user, config.pastDueGraceDays),
      };
    default:
      return { kind: "no_access", cadence, status: subscription.status };
  }
}
