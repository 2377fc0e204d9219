/**
 * Everything the app holds about a person, as they may ask for it (UK GDPR art. 15 and 20, the
 * rights of access and portability): their account, subscriptions, consents, referrals both ways,
 * the credit ledger and the notices sent to them. Nothing about anyone else: the friends they
 * invited appear only as dates and outcomes, and whoever invited them only as "a friend".
 */
import type { Services } from "../services.ts";
import type { Queryable } from "../db/client.ts";
import type { User } from "../auth/users.ts";
import { hasPaidAccess } from "../billing/entitlement.ts";
import { cadenceOf } from "../billing/plans.ts";
import { subscriptionsOf } from "../billing/subscriptions.ts";
import { REG36_WAIVER } from "../billing/waiver.ts";
import type { RewardStatus } from "../referrals/rewards.ts";
import type { NoticeKind } from "../notices/templates.ts";

export interface AccountExport {
  exportedAt: Date;
  account: {
    email: string;
    createdAt: Date;
    tier: User["tier"];
    referralCode: string;
    referralLink: string;
    creditUntil: Date | null;
    paidAccessNow: boolean;
  };
  subscriptions: {
    plan: string | null;
    status: string;
    startedAt: Date | null;
    trialEndAt: Date | null;
    currentPeriodEnd: Date | null;
    cancelAtPeriodEnd: boolean;
    endedAt: Date | null;
    amount: number | null;
    currency: string | null;
  }[];
  consents: {
    kind: string;
    textVersion: string;
    /** The words accepted, when that version is the one this site shows. */
    text: string | null;
    acceptedAt: Date;
    ip: string | null;
    userAgent: string | null;
    checkoutSessionId: string | null;
  }[];
  referrals: {
    /** Who invited the person: only that it was a friend, and what came of it. */
    invitedBy:
      | { by: "a friend"; joinedAt: Date; firstPaymentAt: Date | null; reward: Reward }
      | null;
    /** People the person invited: when they joined and what came of it, never who they are. */
    invited: { joinedAt: Date; firstPaymentAt: Date | null; reward: Reward }[];
  };
  /** The credit ledger: every grant, and every grant taken back (negative days) or given back. */
  credit: {
    date: Date;
    days: number;
    reason: string;
    entry: "added" | "taken_back" | "given_back";
    startsAt: Date;
    endsAt: Date;
    note: string | null;
  }[];
  notices: { kind: NoticeKind; about: string; sentAt: Date; to: string }[];
}

/**
 * What became of a referral's reward: waiting for the first payment, credited, not credited to
 * the referrer past the yearly limit, held for review, taken back, or voided by our team.
 */
export type Reward = "pending" | "credited" | "over_yearly_limit" | RewardStatus;

const NOTICE_ABOUT: Record<NoticeKind, string> = {
  trial_ending: "Your free trial is ending",
  renewal_coming: "Your subscription renews soon",
  payment_failed: "A payment did not go through",
  cancellation_confirmed: "Your subscription is cancelled",
  referral_reward: "Days of paid access from a referral",
  credit_ending: "Your paid access from credit is ending",
};

export async function exportAccountData(
  services: Pick<Services, "config" | "db">,
  user: User,
  now: Date,
): Promise<AccountExport> {
  const { config, db } = services;
  return {
    exportedAt: now,
    account: {
      email: user.email,
      createdAt: user.createdAt,
      tier: user.tier,
      referralCode: user.referralCode,
      referralLink: `${config.siteUrl}/r/${user.referralCode}`,
      creditUntil: user.creditUntil,
      paidAccessNow: hasPaidAccess(user, now, config.pastDueGraceDays),
    },
    subscriptions: (await subscriptionsOf(db, user.id)).map((s) => ({
      plan: cadenceOf(config, s.priceId) ?? s.priceId,
      status: s.status,
      startedAt: s.startedAt,
      trialEndAt: s.trialEndAt,
      currentPeriodEnd: s.currentPeriodEnd,
      cancelAtPeriodEnd: s.cancelAtPeriodEnd,
      endedAt: s.endedAt,
      amount: s.amount,
      currency: s.currency,
    })),
    consents: await consentsOf(db, user.id),
    referrals: await referralsOf(db, user.id),
    credit: await creditLedgerOf(db, user.id),
    notices: await noticesOf(db, user.id),
  };
}

async function consentsOf(db: Queryable, userId: number): Promise<AccountExport["consents"]> {
  const rows = await db<Omit<AccountExport["consents"][number], "text">[]>`
    select kind, text_version, accepted_at, ip, user_agent, checkout_session_id
    from consents where user_id = ${userId} order by accepted_at, id`;
  return rows.map((row) => ({
    ...row,
    text: row.textVersion === REG36_WAIVER.version ? REG36_WAIVER.text : null,
  }));
}

interface ReferralRow {
  createdAt: Date;
  convertedAt: Date | null;
  rewardStatus: RewardStatus | null;
  referrerCapped: boolean;
}

function rewardOf(row: ReferralRow, side: "buyer" | "referrer"): Reward {
  if (row.rewardStatus === null) return "pending";
  if (row.rewardStatus === "credited" && side === "referrer" && row.referrerCapped) {
    return "over_yearly_limit";
  }
  return row.rewardStatus;
}

async function referralsOf(db: Queryable, userId: number): Promise<AccountExport["referrals"]> {
  const [invitedBy] = await db<ReferralRow[]>`
    select created_at, converted_at, reward_status, referrer_capped
    from referrals where referred_user_id = ${userId}`;
  const invited = await db<ReferralRow[]>`
    select created_at, converted_at, reward_status, referrer_capped
    from referrals where referrer_id = ${userId} order by created_at, id`;
  return {
    invitedBy: invitedBy
      ? {
        by: "a friend",
        joinedAt: invitedBy.createdAt,
        firstPaymentAt: invitedBy.convertedAt,
        reward: rewardOf(invitedBy, "buyer"),
      }
      : null,
    invited: invited.map((row) => ({
      joinedAt: row.createdAt,
      firstPaymentAt: row.convertedAt,
      reward: rewardOf(row, "referrer"),
    })),
  };
}

async function creditLedgerOf(db: Queryable, userId: number): Promise<AccountExport["credit"]> {
  return await db<AccountExport["credit"]>`
    select granted_at as date, days, reason,
           case when reverses_grant_id is not null then 'taken_back'
                when restores_grant_id is not null then 'given_back'
                else 'added' end as entry,
           starts_at, ends_at, note
    from credit_grants where user_id = ${userId} order by id`;
}

async function noticesOf(db: Queryable, userId: number): Promise<AccountExport["notices"]> {
  const rows = await db<{ kind: NoticeKind; sentAt: Date; toAddress: string }[]>`
    select kind, sent_at, to_address from notices where user_id = ${userId} order by sent_at, id`;
  return rows.map((row) => ({
    kind: row.kind,
    about: NOTICE_ABOUT[row.kind] ?? row.kind,
    sentAt: row.sentAt,
    to: row.toAddress,
  }));
}
