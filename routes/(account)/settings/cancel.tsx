import { define } from "../../../lib/state.ts";
import { Head, page } from "../../../lib/web/mod.ts";
import { brand } from "../../../lib/brand.ts";
import { DomainError } from "../../../lib/domain_error.ts";
import { accountOverview } from "../../../lib/account/overview.ts";
import { setCancelAtPeriodEnd } from "../../../lib/billing/manage.ts";
import { formatDate } from "../../../lib/format.ts";

/** Cancelling, in one confirmed step: a plain form, so it works without JavaScript. */
export const handler = define.handlers({
  async GET(ctx) {
    const overview = await accountOverview(ctx.state, ctx.state.user!, ctx.state.now());
    if (!overview.canCancel) return ctx.redirect("/settings", 303);
    return page({ overview, problem: null as string | null });
  },
  async POST(ctx) {
    try {
      await setCancelAtPeriodEnd(ctx.state, ctx.state.user!, true);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      const overview = await accountOverview(ctx.state, ctx.state.user!, ctx.state.now());
      return page({ overview, problem: error.message }, { status: 502 });
    }
    return ctx.redirect("/settings?done=cancelled", 303);
  },
});

export default define.page<typeof handler>(function CancelSubscription({ data }) {
  const { plan } = data.overview;
  const until = plan.kind === "renews" ? plan.on : plan.kind === "trial" ? plan.on : null;
  const trial = plan.kind === "trial";
  return (
    <section class="narrow">
      <Head>
        <title>Cancel your subscription — {brand.name}</title>
      </Head>
      <h1>Cancel your subscription?</h1>
      {data.problem && <p class="notice notice-error" role="alert">{data.problem}</p>}
      <p>
        {until
          ? `You keep paid access until ${formatDate(until)}, and ${
            trial ? "you won't be charged at all" : "you won't be charged again"
          }.`
          : "You keep paid access until the end of the period you have paid for."}{" "}
        You can resume any time before then.
      </p>
      <div class="actions">
        <form method="post" action="/settings/cancel">
          <button type="submit" class="btn">Cancel subscription</button>
        </form>
        <a class="btn btn-secondary" href="/settings">Keep my subscription</a>
      </div>
    </section>
  );
});
