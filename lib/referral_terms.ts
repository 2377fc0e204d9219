/**
 * The referral programme's terms, in one place for the code and the copy: when a referred person
 * makes their first real payment, both they and their referrer get this many days of paid access.
 */
export const REFERRAL_CREDIT_DAYS = 45;
