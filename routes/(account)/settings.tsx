import { define } from "../../lib/state.ts";
import { Head, page } from "../../lib/web/mod.ts";
import { brand } from "../../lib/brand.ts";
import { accountOverview, type PlanView } from "../../lib/account/overview.ts";
import { REFERRAL_CREDIT_DAYS } from "../../lib/referral_terms.ts";
import CopyLink from "../../islands/CopyLink.tsx";
import BillingPortalButton from "../../islands/BillingPortalButton.tsx";

export const handler = define.handlers({
  async GET(ctx) {
    const user = ctx.state.user!;
    const overview = await accountOverview(ctx.state, user, ctx.state.now());
    const upgraded = ctx.url.searchParams.get("upgraded") === "1";
    const headers = new Headers({ "cache-control": "no-store" });
    // Back from Checkout before Stripe's webhook has landed: look again in a moment.
    if (upgraded && overview.plan.kind === "free") headers.set("refresh", "3");
    return page({ overview, upgraded }, { headers });
  },
});

function planLabel(plan: PlanView): string {
  const period = (cadence: string | null) => cadence ? ` (${cadence})` : "";
  switch (plan.kind) {
    case "free":
      return "Free";
    case "paid":
      return `Paid${period(plan.cadence)}`;
    case "trial":
      return `Free trial: ${plan.daysLeft} ${plan.daysLeft === 1 ? "day" : "days"} remaining`;
  }
}

const dateFormat = new Intl.DateTimeFormat("en-GB", {
  day: "numeric",
  month: "long",
  year: "numeric",
});

export default define.page<typeof handler>(function Settings({ data }) {
  const { overview } = data;
  const confirming = data.upgraded && overview.plan.kind === "free";
  return (
    <>
      <Head>
        <title>Your account — {brand.name}</title>
        <meta name="description" content="Your plan, your billing and your referral link." />
      </Head>
      <h1>Settings</h1>
      {data.upgraded && (
        <p class="notice" role="status">
          {confirming
            ? "Thank you! We're confirming your payment with Stripe — this page will update in a moment."
            : "Thank you for subscribing! Your paid access is active."}
        </p>
      )}
      <div class="settings-grid">
        <section class="card" aria-labelledby="plan-heading">
          <h2 id="plan-heading">Your plan</h2>
          <p class="stat" data-testid="plan">{planLabel(overview.plan)}</p>
          {overview.cancelsAtPeriodEnd && (
            <p class="notice notice-warn">
              Your subscription will end at the close of the current billing period.
            </p>
          )}
          {overview.billingProblem && (
            <p class="notice notice-error">
              There is a problem with your payment (status:{" "}
              {overview.billingProblem}). Please update your card in the billing portal.
            </p>
          )}
          {overview.creditDaysLeft > 0 && (
            <p data-testid="credit">
              <strong>+{overview.creditDaysLeft} days on your account</strong>
              <span class="hint block">
                Paid access until {dateFormat.format(overview.creditUntil!)}, whatever your plan.
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
            {overview.hasBillingAccount && <BillingPortalButton />}
          </div>
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
        </section>
      </div>
    </>
  );
});
