/** The referral numbers a person sees on their settings page. */
import type { Queryable } from "../db/client.ts";
import { REFERRAL_CREDIT_DAYS } from "../referral_terms.ts";
import { DAY_MS } from "../time.ts";

export interface ReferralStats {
  /** People who signed up through the link. */
  joined: number;
  /** Of those, people who have made their first payment. */
  converted: number;
  /** Conversions whose 45-day credit window is still running. */
  activeCredits: number;
}

export async function referralStats(
  db: Queryable,
  userId: number,
  now: Date,
): Promise<ReferralStats> {
  const windowStart = new Date(now.getTime() - REFERRAL_CREDIT_DAYS * DAY_MS);
  const [stats] = await db<ReferralStats[]>`
    select count(*)::int as joined,
           count(converted_at)::int as converted,
           count(*) filter (where credited_at > ${windowStart} and credited_at <= ${now})::int
             as active_credits
    from referrals where referrer_id = ${userId}`;
  return stats;
}
