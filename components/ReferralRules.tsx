import { referralRules } from "../lib/referral_terms.ts";

/**
 * The referral programme's rules as the site states them — on the referral page, pricing and
 * settings alike. `selfReferral` adds what counts as inviting yourself.
 */
export function ReferralRules(
  props: { rewardsPerYear: number; selfReferral?: boolean; class?: string },
) {
  const rules = referralRules(props.rewardsPerYear);
  return (
    <ul class={props.class} data-testid="referral-rules">
      <li>{rules.subscribers}</li>
      <li>{rules.refunds}</li>
      <li>{rules.cap}</li>
      {props.selfReferral && <li>{rules.selfReferral}</li>}
    </ul>
  );
}
