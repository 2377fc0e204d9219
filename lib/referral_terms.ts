/**
 * The referral programme's terms, in one place for the code and the copy: when a referred person
 * makes their first real payment, both they and their referrer get this many days of paid
 * access. The rules below are said in these words wherever the site states them (the referral
 * page, pricing, settings), and each is what the code does.
 */
export const REFERRAL_CREDIT_DAYS = 45;

/** The rules of the programme, as the site states them. */
export function referralRules(rewardsPerYear: number) {
  return {
    subscribers: `If you subscribe, the ${REFERRAL_CREDIT_DAYS} days move your next payment ` +
      "back instead: nothing more is charged until then, and if you cancel the days still count.",
    refunds: "If the payment that earned the reward is refunded in full, or disputed with the " +
      "bank, both rewards are taken back (days already used stay used); if the bank decides the " +
      "dispute in our favour, they come back. A partial refund changes nothing.",
    cap: `Whoever invites earns at most ${rewardsPerYear} rewards in any 365 days; friends who ` +
      `join after that still get their ${REFERRAL_CREDIT_DAYS} days.`,
    selfReferral: "Inviting yourself doesn't count: addresses that reach one mailbox (you+1@…, " +
      "Gmail with dots) are one person, and a payment with a card the inviter has used waits " +
      "for a check by our team.",
  };
}
