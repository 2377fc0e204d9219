/**
 * Everything the settings page shows about a person's plan, access and referrals, computed in
 * one place from the database (the page only renders it).
 */
import type { Services } from "../services.ts";
import type { User } from "../auth/users.ts";
import type { Cadence } from "../billing/plans.ts";
import { currentSubscription } from "../billing/subscriptions.ts";
import { creditDaysLeft } from "../referrals/credits.ts";
import { hasPaidAccess } from "../billing/entitlement.ts";
import { type ReferralStats, referralStats } from "../referrals/stats.ts";
import { wholeDaysUntil } from "../time.ts";

export type PlanView =
  | { kind: "free" }
  | { kind: "paid"; cadence: Cadence | null }
  | { kind: "trial"; cadence: Cadence | null; daysLeft: number };

export interface AccountOverview {
  plan: PlanView;
  /** A Stripe status worth mentioning (past_due, unpaid…), or null. */
  billingProblem: string | null;
  cancelsAtPeriodEnd: boolean;
  hasPaidAccess: boolean;
  creditDaysLeft: number;
  creditUntil: Date | null;
  hasBillingAccount: boolean;
  referralLink: string;
  referrals: ReferralStats;
}

export async function accountOverview(
  services: Pick<Services, "config" | "db">,
  user: User,
  now: Date,
): Promise<AccountOverview> {
  const subscription = await currentSubscription(services.db, user);
  const cadence = cadenceOf(services.config, subscription?.priceId ?? null);
  let plan: PlanView = { kind: "free" };
  if (user.tier === "paid") {
    plan = user.stripeSubscriptionStatus === "trialing" && user.stripeTrialEndAt
      ? {
        kind: "trial",
        cadence,
        daysLeft: wholeDaysUntil(user.stripeTrialEndAt, now),
      }
      : { kind: "paid", cadence };
  }
  const status = user.stripeSubscriptionStatus;
  return {
    plan,
    billingProblem: status && !["trialing", "active", "canceled"].includes(status) ? status : null,
    cancelsAtPeriodEnd: subscription?.cancelAtPeriodEnd ?? false,
    hasPaidAccess: hasPaidAccess(user, now),
    creditDaysLeft: creditDaysLeft(user, now),
    creditUntil: user.creditUntil,
    hasBillingAccount: user.stripeCustomerId !== null,
    referralLink: `${services.config.siteUrl}/r/${user.referralCode}`,
    referrals: await referralStats(services.db, user.id, now),
  };
}

function cadenceOf(
  config: Pick<Services["config"], "stripe">,
  priceId: string | null,
): Cadence | null {
  if (!priceId) return null;
  if (priceId === config.stripe.priceMonthly) return "monthly";
  if (priceId === config.stripe.priceAnnual) return "annual";
  return null;
}
