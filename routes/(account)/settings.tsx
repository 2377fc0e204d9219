import { define } from "../../lib/state.ts";
import { Head, page } from "../../lib/web/mod.ts";
import { brand } from "../../lib/brand.ts";
import {
  type AccountOverview,
  accountOverview,
  type PlanView,
} from "../../lib/account/overview.ts";
import { REFERRAL_CREDIT_DAYS } from "../../lib/referral_terms.ts";
import { ReferralRules } from "../../components/ReferralRules.tsx";
import { formatAmount, formatDate } from "../../lib/format.ts";
import CopyLink from "../../islands/CopyLink.tsx";
import BillingPortalButton from "../../islands/BillingPortalButton.tsx";

/** Back from a change made in Stripe: what was asked for, and how to tell it has landed. */
const DONE = {
  upgraded: {
    thanks: "Thank you for subscribing! Your paid access is active.",
    waiting:
      "Thank you! We're confirming your payment with Stripe — this page will update in a moment.",
    landed: (o: AccountOverview) => o.plan.kind !== "free",
  },
  cancelled: {
    thanks: "Your subscription is cancelled. You keep access until the date below.",
    waiting: "We're confirming your cancellation with Stripe — this page will update in a moment.",
    landed: (o: AccountOverview) => o.plan.kind === "ends",
  },
  resumed: {
    thanks: "Your subscription will carry on as before.",
    waiting: "We're confirming with Stripe — this page will update in a moment.",
    landed: (o: AccountOverview) => o.plan.kind !== "ends",
  },
  switched: {
    thanks: "You're on the annual plan now.",
    waiting:
      "We're confirming your switch to annual with Stripe — this page will update in a moment.",
    landed: (o: AccountOverview) => o.plan.kind !== "free" && o.plan.cadence === "annual",
  },
} as const;

export const handler = define.handlers({
  async GET(ctx) {
    const user = ctx.state.user!;
    const overview = await accountOverview(ctx.state, user, ctx.state.now());
    const asked = ctx.url.searchParams.get("upgraded") === "1"
      ? "upgraded"
      : ctx.url.searchParams.get("done");
    const done = asked && asked in DONE ? DONE[asked as keyof typeof DONE] : null;
    const landed = done ? done.landed(overview) : true;
    const headers = new Headers({ "cache-control": "no-store" });
    // Back from Stripe before its webhook has landed: look again in a moment.
    if (!landed) headers.set("refresh", "3");
    return page({ overview, notice: done ? (landed ? done.thanks : done.waiting) : null }, {
      headers,
    });
  },
});

function planLabel(plan: PlanView): string {
  const period = (cadence: string | null) => cadence ? ` (${cadence})` : "";
  switch (plan.kind) {
    case "free":
      return "Free";
    case "trial":
      return `Free trial${period(plan.cadence)}`;
    case "no_access":
      return `No paid access${period(plan.cadence)}`;
    default:
      return `Paid${period(plan.cadence)}`;
  }
}

/** What happens next with the plan, in words and dates. */
function planStatus(plan: PlanView): string | null {
  const price = (p: { amount: number; currency: string } | null) =>
    p ? formatAmount(p.amount, p.currency) : null;
  switch (plan.kind) {
    case "free":
      return null;
    case "renews":
      if (plan.on && plan.movedDays > 0) {
        return `Next payment ${plan.price ? `${price(plan.price)} ` : ""}on ${
          formatDate(plan.on)
        } (moved ${plan.movedDays} days by referral credit)`;
      }
      return plan.on
        ? `Renews on ${formatDate(plan.on)}${plan.price ? ` for ${price(plan.price)}` : ""}`
        : "Renews automatically";
    case "trial":
      return `Free trial: ${plan.daysLeft} ${plan.daysLeft === 1 ? "day" : "days"} left` +
        (plan.price ? ` — then ${price(plan.price)} on ${formatDate(plan.on)}` : "");
    case "ends":
      return plan.on
        ? `Ends on ${formatDate(plan.on)} (you cancelled)${
          plan.trial ? " — you won't be charged" : ""
        }`
        : "Ends at the close of this period (you cancelled)";
    case "past_due":
      return "Your last payment failed — update your card to keep access" +
        (plan.accessEnds
          ? ` (access ends on ${formatDate(plan.accessEnds)} if it isn't paid)`
          : "");
    case "no_access":
      return `No paid access: your subscription is ${plan.status.replaceAll("_", " ")}`;
  }
}

/** Where the person stands against the yearly cap, and rewards held for review. */
function RewardLimits({ allowance }: { allowance: AccountOverview["rewardAllowance"] }) {
  const atCap = allowance.thisYear >= allowance.perYear;
  if (!atCap && allowance.pastCap === 0 && allowance.held === 0) return null;
  return (
    <div data-testid="reward-limits">
      {(atCap || allowance.pastCap > 0) && (
        <p class="notice notice-warn">
          You've had {allowance.thisYear} of the {allowance.perYear}{" "}
          referral rewards a year can bring
          {allowance.pastCap > 0
            ? `; ${allowance.pastCap} ${
              allowance.pastCap === 1 ? "friend's payment" : "friends' payments"
            } since then earned you nothing (your friends still got their ${REFERRAL_CREDIT_DAYS} days)`
            : ""}. {allowance.nextRewardFrom &&
            `Your next reward can come from ${formatDate(allowance.nextRewardFrom)}.`}
        </p>
      )}
      {allowance.held > 0 && (
        <p class="notice">
          {allowance.held === 1 ? "One reward is" : `${allowance.held} rewards are`}{" "}
          waiting for a check by our team (the friend paid with a card you have used).
        </p>
      )}
    </div>
  );
}

const CREDIT_REASONS = {
  referral_buyer: "You joined through a friend's link",
  referral_referrer: "A friend you invited subscribed",
  admin_grant: "Added by our team",
} as const;

/** Every grant: when, how many days, why, and whether it still stands. */
function CreditHistory({ credits }: { credits: AccountOverview["credits"] }) {
  return (
    <table class="credit-history" data-testid="credit-history">
      <caption>Your credit</caption>
      <thead>
        <tr>
          <th scope="col">Date</th>
          <th scope="col">Days</th>
          <th scope="col">Why</th>
          <th scope="col">State</th>
        </tr>
      </thead>
      <tbody>
        {credits.map((credit, i) => (
          <tr key={i}>
            <td>{formatDate(credit.grantedAt)}</td>
            <td>+{credit.days}</td>
            <td>{CREDIT_REASONS[credit.reason]}</td>
            <td>
              {credit.takenBack
                ? `Taken back: ${creditTakenBack(credit.takenBack)}`
                : credit.restored
                ? "Given back: the dispute was won"
                : "Added"}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The reversal's note in words: the payment was refunded or disputed, or our team voided it. */
function creditTakenBack(note: string): string {
  if (note === "payment refunded") return "the payment was refunded";
  if (note === "payment disputed") return "the payment is disputed";
  return "our team took it back";
}

export default define.page<typeof handler>(function Settings({ data, state }) {
  const { overview } = data;
  const status = planStatus(overview.plan);
  const troubled = overview.plan.kind === "past_due" || overview.plan.kind === "no_access";
  return (
    <>
      <Head>
        <title>Your account — {brand.name}</title>
        <meta name="description" content="Your plan, your billing and your referral link." />
      </Head>
      <h1>Settings</h1>
      {data.notice && <p class="notice" role="status">{data.notice}</p>}
      <div class="settings-grid">
        <section class="card" aria-labelledby="plan-heading">
          <h2 id="plan-heading">Your plan</h2>
          <p class="stat" data-testid="plan">{planLabel(overview.plan)}</p>
          {status && (
            <p
              class={troubled
                ? "notice notice-error"
                : overview.plan.kind === "ends"
                ? "notice notice-warn"
                : ""}
              data-testid="billing-status"
            >
              {status}
            </p>
          )}
          {overview.creditDaysLeft > 0 && (
            <p data-testid="credit">
              <strong>+{overview.creditDaysLeft} days on your account</strong>
              <span class="hint block">
                Paid access until {formatDate(overview.creditUntil!)}, whatever your plan.
              </span>
            </p>
          )}
          <p class="muted">
            {overview.hasPaidAccess
              ? "You have full access to read.markets."
              : "You're on the free plan."}
          </p>
          <div class="actions">
            {overview.plan.kind === "free" && <a class="btn" href="/pricing">See plans</a>}
            {overview.canUpgrade && <a class="btn" href="/settings/upgrade">Switch to annual</a>}
            {overview.canResume && (
              <form method="post" action="/settings/resume">
                <button type="submit" class="btn">Resume subscription</button>
              </form>
            )}
            {overview.hasBillingAccount && <BillingPortalButton />}
            {overview.canCancel && (
              <a class="btn btn-secondary" href="/settings/cancel">Cancel subscription</a>
            )}
          </div>
          {overview.plan.kind !== "free" && overview.plan.cadence === "annual" && (
            <p class="hint">
              To pay monthly instead, cancel, then subscribe monthly when your year ends (the
              monthly plan starts at once, so you'll confirm that then).
            </p>
          )}
        </section>
        <section class="card" aria-labelledby="referral-heading">
          <h2 id="referral-heading">Invite friends</h2>
          <p>
            When a friend who joins through your link makes their first payment, you both get{" "}
            {REFERRAL_CREDIT_DAYS} days of paid access.
          </p>
          <CopyLink link={overview.referralLink} label="Your referral link" />
          <dl class="facts">
            <dt>Active credits</dt>
            <dd data-testid="active-credits">{overview.referrals.activeCredits}</dd>
            <dt>Friends joined</dt>
            <dd data-testid="joined">{overview.referrals.joined}</dd>
            <dt>Friends subscribed</dt>
            <dd data-testid="converted">{overview.referrals.converted}</dd>
          </dl>
          <p class="hint">
            Active credits are friends' first payments in the last {REFERRAL_CREDIT_DAYS} days.
          </p>
          <ReferralRules rewardsPerYear={state.config.referralRewardsPerYear} class="hint" />
          <RewardLimits allowance={overview.rewardAllowance} />
          {overview.credits.length > 0 && <CreditHistory credits={overview.credits} />}
        </section>
        <section class="card" aria-labelledby="data-heading">
          <h2 id="data-heading">Your data</h2>
          <p>
            Download everything we hold about you as a file, or delete your account and the personal
            details that go with it.
          </p>
          <div class="actions">
            <a class="btn btn-secondary" href="/settings/export" download>Download my data</a>
            <a class="btn btn-secondary" href="/settings/delete">Delete my account</a>
          </div>
        </section>
      </div>
    </>
  );
});
