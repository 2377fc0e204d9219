/**
 * The notices a UK subscription seller owes its subscribers, in the site's voice: each with a
 * subject, a plain-text part and an HTML part saying the same, dates as "14 March 2027" and
 * amounts as "£70.00", and the one link that matters (cancel in one step, update the card,
 * resume).
 */
import { brand } from "../brand.ts";
import { formatAmount, formatDate } from "../format.ts";
import { REFERRAL_CREDIT_DAYS } from "../referral_terms.ts";

export interface Money {
  amount: number;
  currency: string;
}

/** What each notice says, by kind. Dates travel as ISO strings (job payloads are JSON). */
export interface NoticeData {
  trial_ending: { chargeOn: string; price: Money | null; plan: string };
  renewal_coming: { renewsOn: string; price: Money | null; plan: string };
  payment_failed: {
    invoiceId: string;
    amountDue: Money;
    failedAt: string;
    nextAttempt: string | null;
    /** Filled in when sent: when access ends if nothing changes, or that it has stopped. */
    accessEnds: string | null;
    stopped: boolean;
  };
  cancellation_confirmed: { endsOn: string | null; trial: boolean };
  referral_reward: {
    days: number;
    creditUntil: string;
    side: "buyer" | "referrer";
    /** Has a live subscription, whose next payment the days move back. */
    subscriber?: boolean;
  };
  credit_ending: { creditUntil: string };
}

export type NoticeKind = keyof NoticeData;

export const NOTICE_KINDS: readonly NoticeKind[] = [
  "trial_ending",
  "renewal_coming",
  "payment_failed",
  "cancellation_confirmed",
  "referral_reward",
  "credit_ending",
];

export interface RenderedNotice {
  subject: string;
  text: string;
  html: string;
}

/** A paragraph of text, or a call to action: a labelled link. */
type Block = string | { link: string; label: string };

export function renderNotice<K extends NoticeKind>(
  kind: K,
  data: NoticeData[K],
  siteUrl: string,
): RenderedNotice {
  const { subject, blocks } = WRITERS[kind](data as never, siteUrl);
  const closing = `— ${brand.name}`;
  const text = [
    ...blocks.map((b) => typeof b === "string" ? b : `${b.label}: ${b.link}`),
    closing,
  ].join("\n\n");
  const html = [
    `<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8"><title>${
      escape(subject)
    }</title></head>`,
    '<body style="font-family: Georgia, serif; color: #14213d; line-height: 1.5;">',
    ...blocks.map((b) =>
      typeof b === "string"
        ? `<p>${escape(b)}</p>`
        : `<p><a href="${escape(b.link)}" style="color: #0b5cab;">${escape(b.label)}</a></p>`
    ),
    `<p>${escape(closing)}</p>`,
    "</body></html>",
  ].join("\n");
  return { subject, text, html };
}

type Writer<K extends NoticeKind> = (
  data: NoticeData[K],
  siteUrl: string,
) => { subject: string; blocks: Block[] };

const price = (money: Money | null) => money ? formatAmount(money.amount, money.currency) : null;
const day = (iso: string) => formatDate(new Date(iso));

const WRITERS: { [K in NoticeKind]: Writer<K> } = {
  trial_ending: (data, site) => ({
    subject: `Your free trial ends on ${day(data.chargeOn)}`,
    blocks: [
      `Your free trial of ${brand.name} ends on ${day(data.chargeOn)}. ` +
      (price(data.price)
        ? `On that day we will charge ${price(data.price)} for your ${data.plan} plan, `
        : `On that day your ${data.plan} plan's first payment is taken, `) +
      "unless you cancel before then.",
      "If you want to keep reading, there is nothing to do.",
      { label: "Cancel before you are charged", link: `${site}/settings/cancel` },
    ],
  }),
  renewal_coming: (data, site) => ({
    subject: `Your ${data.plan} subscription renews on ${day(data.renewsOn)}`,
    blocks: [
      `Your ${data.plan} subscription to ${brand.name} renews on ${day(data.renewsOn)}` +
      (price(data.price) ? `, when we will charge ${price(data.price)}.` : "."),
      "If you want to keep reading, there is nothing to do.",
      { label: "Cancel before it renews", link: `${site}/settings/cancel` },
    ],
  }),
  payment_failed: (data, site) => ({
    subject: "Your payment didn't go through",
    blocks: [
      `We couldn't take your payment of ${
        formatAmount(data.amountDue.amount, data.amountDue.currency)
      } for ${brand.name}.`,
      data.nextAttempt
        ? `We will try again on ${day(data.nextAttempt)}.`
        : "We will not try this payment again by ourselves.",
      data.stopped
        ? "Your paid access has stopped until the payment is made."
        : data.accessEnds
        ? `Your paid access ends on ${day(data.accessEnds)} if the payment isn't made by then.`
        : "Your paid access continues while the payment is retried.",
      { label: "Update your card", link: `${site}/billing/card` },
    ],
  }),
  cancellation_confirmed: (data, site) => ({
    subject: "Your subscription is cancelled",
    blocks: [
      data.endsOn
        ? `You have cancelled your ${brand.name} subscription. You keep paid access until ${
          day(data.endsOn)
        }${data.trial ? ", and you will not be charged" : ", and you will not be charged again"}.`
        : `You have cancelled your ${brand.name} subscription.`,
      data.endsOn
        ? `Changed your mind? You can resume it any time before ${day(data.endsOn)}.`
        : "You can subscribe again whenever you like.",
      data.endsOn
        ? { label: "Resume your subscription", link: `${site}/settings` }
        : { label: "See plans", link: `${site}/pricing` },
    ],
  }),
  referral_reward: (data, site) => ({
    subject: `+${data.days} days of paid access on ${brand.name}`,
    blocks: [
      data.side === "referrer"
        ? `A friend you invited has made their first payment, so you get +${data.days} days ` +
          "of paid access."
        : `Thanks for joining through a friend's invitation: you get +${data.days} days of ` +
          "paid access.",
      data.subscriber
        ? `As a subscriber, your next payment moves back by ${data.days} days: nothing more is ` +
          "charged until then."
        : `Your credit now runs until ${day(data.creditUntil)}.`,
      `Every friend who subscribes through your link adds another ${REFERRAL_CREDIT_DAYS} days.`,
      { label: "Your referral link", link: `${site}/settings` },
    ],
  }),
  credit_ending: (data, site) => ({
    subject: `Your paid access ends on ${day(data.creditUntil)}`,
    blocks: [
      `Your paid access to ${brand.name} from referral credit ends on ${day(data.creditUntil)}.`,
      "To keep reading after that, choose a plan — or invite a friend: when they subscribe, " +
      `you both get ${REFERRAL_CREDIT_DAYS} more days.`,
      { label: "See plans", link: `${site}/pricing` },
    ],
  }),
};

function escape(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}
