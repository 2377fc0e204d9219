/** Each notice with plausible data, for looking at them (`/dev/notices`) and testing them. */
import type { NoticeData } from "./templates.ts";

export const SAMPLE_NOTICES: NoticeData = {
  trial_ending: {
    chargeOn: "2027-03-21T09:00:00.000Z",
    price: { amount: 7000, currency: "gbp" },
    plan: "annual",
  },
  renewal_coming: {
    renewsOn: "2027-03-14T09:00:00.000Z",
    price: { amount: 7000, currency: "gbp" },
    plan: "annual",
  },
  payment_failed: {
    invoiceId: "in_sample",
    amountDue: { amount: 700, currency: "gbp" },
    failedAt: "2027-03-03T09:00:00.000Z",
    nextAttempt: "2027-03-06T09:00:00.000Z",
    accessEnds: "2027-03-17T09:00:00.000Z",
    stopped: false,
  },
  cancellation_confirmed: { endsOn: "2027-03-14T09:00:00.000Z", trial: false },
  referral_reward: { days: 45, creditUntil: "2027-04-28T09:00:00.000Z", side: "referrer" },
  credit_ending: { creditUntil: "2027-04-28T09:00:00.000Z" },
};
