import { define } from "../lib/state.ts";
import { Head, page } from "../lib/web/mod.ts";
import { brand } from "../lib/brand.ts";
import { REFERRAL_CREDIT_DAYS } from "../lib/referral_terms.ts";
import { ReferralRules } from "../components/ReferralRules.tsx";
import { ANNUAL_TRIAL_DAYS } from "../lib/billing/plans.ts";
import { planOffers, planPrices } from "../lib/billing/prices.ts";
import { hasHadSubscription } from "../lib/billing/subscriptions.ts";
import CheckoutPicker from "../islands/CheckoutPicker.tsx";

export const handler = define.handlers({
  async GET(ctx) {
    const requested = ctx.url.searchParams.get("plan");
    const user = ctx.state.user;
    // One free trial per person: someone who has had a subscription pays for a year at once.
    const trial = !user || !await hasHadSubscription(ctx.state.db, user.id);
    return page({
      plans: planOffers(await planPrices(ctx.state), { trial }),
      initial: requested === "monthly" ? "monthly" as const : "annual" as const,
      signedIn: user !== null,
      trial,
    });
  },
});

export default define.page<typeof handler>(function Pricing({ data, state }) {
  return (
    <>
      <Head>
        <title>Plans and prices — {brand.name}</title>
        <meta
          name="description"
          content={`Read ${brand.name} monthly, or yearly with a ${ANNUAL_TRIAL_DAYS}-day free trial.`}
        />
      </Head>
      <section class="hero">
        <h1>Plans</h1>
        <p class="lede">
          One subscription, everything on {brand.name}. Pay monthly, or yearly with a{" "}
          {ANNUAL_TRIAL_DAYS}-day free trial.
        </p>
      </section>
      <div class="pricing-grid">
        <CheckoutPicker
          plans={data.plans}
          initial={data.initial}
          signedIn={data.signedIn}
          trialDays={data.trial ? ANNUAL_TRIAL_DAYS : 0}
        />
        <section class="card" aria-labelledby="includes">
          <h2 id="includes">Paid access includes</h2>
          <ul class="ticks">
            <li>The morning briefing, every market day</li>
            <li>Every long read and the full archive</li>
            <li>Company and sector deep dives</li>
            <li>No ads, ever</li>
          </ul>
        </section>
      </div>
      <section class="card offer" aria-labelledby="offer">
        <h2 id="offer">Invite friends, both get {REFERRAL_CREDIT_DAYS} days</h2>
        <p>
          Every subscriber has a personal invitation link. When a friend who joined through yours
          makes their first payment, you each get{" "}
          <strong>{REFERRAL_CREDIT_DAYS} days of paid access</strong>{" "}
          added to your accounts. A free trial doesn't count until its first real charge.
        </p>
        <ReferralRules rewardsPerYear={state.config.referralRewardsPerYear} class="hint" />
        <p>
          <a href="/referrals">How referrals work</a>
        </p>
      </section>
      <section class="narrow faq" aria-labelledby="faq">
        <h2 id="faq">Questions</h2>
        <h3>Why does the monthly plan ask me to tick a box?</h3>
        <p>
          A monthly plan gives you access straight away. UK law gives you 14 days to cancel a
          purchase, but not for a service you asked to start at once — so we ask you to confirm that
          before you pay. The annual plan has a free trial instead.
        </p>
        <h3>How do I cancel?</h3>
        <p>
          In your settings, "Cancel subscription" ends it at the close of the period you have paid
          for (a trial that you cancel is never charged), and "Resume" undoes that until then.
        </p>
        <h3>Is the free trial for everyone?</h3>
        <p>
          The annual plan's{" "}
          {ANNUAL_TRIAL_DAYS}-day free trial is for your first subscription. If you have subscribed
          before, the annual plan is billed when you subscribe.
        </p>
      </section>
    </>
  );
});
