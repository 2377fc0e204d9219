import { define } from "../lib/state.ts";
import { REFERRAL_CREDIT_DAYS } from "../lib/referral_terms.ts";
import { ReferralRules } from "../components/ReferralRules.tsx";
import ReferralCalculator from "../islands/ReferralCalculator.tsx";

export default define.page(function Referrals({ state }) {
  return (
    <section class="narrow">
      <h1>Invite friends, both get {REFERRAL_CREDIT_DAYS} days</h1>
      <p>
        Share your personal link. When a friend who signed up through it makes their first payment,
        you and your friend each get <strong>{REFERRAL_CREDIT_DAYS} days of paid access</strong>
        {" "}
        added to your accounts. Credits stack: every friend adds another {REFERRAL_CREDIT_DAYS}{" "}
        days, on top of any you already have.
      </p>
      <p class="muted">
        A free trial does not count as a payment; the credit arrives with your friend's first real
        charge.
      </p>
      <ReferralCalculator creditDays={REFERRAL_CREDIT_DAYS} />
      <h2>The rules</h2>
      <ReferralRules rewardsPerYear={state.config.referralRewardsPerYear} selfReferral />
    </section>
  );
});
