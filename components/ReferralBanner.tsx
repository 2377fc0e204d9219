import { REFERRAL_CREDIT_DAYS } from "../lib/referral_terms.ts";

/** Shown to a visitor who arrived through a friend's referral link and has no account yet. */
export function ReferralBanner() {
  return (
    <div class="banner" role="status">
      Invited by a friend: get {REFERRAL_CREDIT_DAYS} days of paid access when you subscribe
    </div>
  );
}
