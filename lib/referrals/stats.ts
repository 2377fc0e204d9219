/** The referral numbers a person sees on their settings page. */
import type { Queryable } from "../db/client.ts";
import { type Read, readOne, rowFromJson } from "../db/reads.ts";
import { REFERRAL_CREDIT_DAYS } from "../referral_terms.ts";
import { DAY_MS } from "../time.ts";

export interface ReferralStats {
  /** People who signed up through the link. */
  joined: number;
  /** Of those, people who have made their first payment. */
  converted: number;
  /** Rewards of theirs (not taken back, not past the cap) whose 45-day window is still running. */
  activeCredits: number;
}

export function referralStatsRead(userId: number, now: Date): Read<ReferralStats> {
  const windowStart = new Date(now.getTime() - REFERRAL_CREDIT_DAYS * DAY_MS);
  return {
    query: (db) =>
      db`select to_json(stats) from (
           select count(*)::int as joined,
                  count(converted_at)::int as converted,
                  count(*) filter (where credited_at > ${windowStart} and credited_at <= ${now}
                                     and reward_status = 'credited' and not referrer_capped)::int
                    as active_credits
           from referrals where referrer_id = ${userId}) stats`,
    parse: (stats) => rowFromJson<ReferralStats>(stats, []),
  };
}

export async function referralStats(
  db: Queryable,
  userId: number,
  now: Date,
): Promise<ReferralStats> {
  return await readOne(db, referralStatsRead(userId, now));
}

/** Where a referrer stands against the yearly cap on rewards. */
export interface RewardAllowance {
  perYear: number;
  /** Rewards credited to them in the last 365 days. */
  thisYear: number;
  /** Friends' conversions in the last 365 days that did not reward them: the cap was reached. */
  pastCap: number;
  /** When the oldest of this year's rewards leaves the window, once the cap is reached. */
  nextRewardFrom: Date | null;
  /** Conversions held for review (a card they had used). */
  held: number;
}

export function rewardAllowanceRead(
  userId: number,
  now: Date,
  perYear: number,
): Read<RewardAllowance> {
  const yearAgo = new Date(now.getTime() - 365 * DAY_MS);
  return {
    query: (db) =>
      db`select to_json(allowance) from (
           select
             count(*) filter (where reward_status = 'credited' and not referrer_capped
                                and credited_at > ${yearAgo})::int as this_year,
             count(*) filter (where referrer_capped and credited_at > ${yearAgo})::int as past_cap,
             count(*) filter (where reward_status = 'held')::int as held,
             min(credited_at) filter (where reward_status = 'credited' and not referrer_capped
                                        and credited_at > ${yearAgo}) as oldest
           from referrals where referrer_id = ${userId}) allowance`,
    parse: (value) => {
      const row = rowFromJson<
        { thisYear: number; pastCap: number; held: number; oldest: Date | null }
      >(
        value,
        ["oldest"],
      );
      return {
        perYear,
        thisYear: row.thisYear,
        pastCap: row.pastCap,
        nextRewardFrom: row.thisYear >= perYear && row.oldest
          ? new Date(row.oldest.getTime() + 365 * DAY_MS)
          : null,
        held: row.held,
      };
    },
  };
}

/** One credit grant as the person sees it: when, how many days, why, and what became of it. */
export interface CreditLine {
  grantedAt: Date;
  days: number;
  reason: "referral_buyer" | "referral_referrer" | "admin_grant";
  restored: boolean;
  /** Why it was taken back (the reversal's note), or null while it stands. */
  takenBack: string | null;
}

/** Every grant of the person's, newest first, with its reversal if it was taken back. */
export function creditHistoryRead(userId: number): Read<CreditLine[]> {
  return {
    query: (db) =>
      db`select coalesce(json_agg(line), '[]') from (
           select g.granted_at, g.days, g.reason, g.restores_grant_id is not null as restored,
                  r.note as taken_back
           from credit_grants g
             left join credit_grants r on r.reverses_grant_id = g.id
           where g.user_id = ${userId} and g.days > 0
           order by g.id desc
           limit 50) line`,
    parse: (lines) =>
      (lines as unknown[]).map((line) => rowFromJson<CreditLine>(line, ["grantedAt"])),
  };
}
