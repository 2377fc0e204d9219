import { define } from "../../../lib/state.ts";
import { Head, page } from "../../../lib/web/mod.ts";
import { brand } from "../../../lib/brand.ts";
import { DomainError } from "../../../lib/domain_error.ts";
import { previewUpgrade, upgradeToAnnual } from "../../../lib/billing/manage.ts";
import { planPrices } from "../../../lib/billing/prices.ts";
import { formatAmount } from "../../../lib/format.ts";

/** Monthly → annual, with today's charge from Stripe's own preview shown before confirming. */
export const handler = define.handlers({
  async GET(ctx) {
    try {
      const preview = await previewUpgrade(ctx.state, ctx.state.user!);
      const prices = await planPrices(ctx.state);
      return page({ preview, annual: prices?.annual.display ?? null, problem: null });
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      return page({ preview: null, annual: null, problem: error.message }, { status: 409 });
    }
  },
  async POST(ctx) {
    const form = await ctx.req.formData().catch(() => new FormData());
    const prorationDate = Number(form.get("proration_date"));
    try {
      await upgradeToAnnual(
        ctx.state,
        ctx.state.user!,
        Number.isInteger(prorationDate) && prorationDate > 0 ? prorationDate : null,
      );
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      return page({ preview: null, annual: null, problem: error.message }, { status: 502 });
    }
    return ctx.redirect("/settings?done=switched", 303);
  },
});

export default define.page<typeof handler>(function Upgrade({ data }) {
  return (
    <section class="narrow">
      <Head>
        <title>Switch to annual — {brand.name}</title>
      </Head>
      <h1>Switch to the annual plan</h1>
      {data.problem && <p class="notice notice-error" role="alert">{data.problem}</p>}
      {data.preview && (
        <>
          <p data-testid="upgrade-preview">
            You pay <strong>{formatAmount(data.preview.dueToday, data.preview.currency)}</strong>
            {" "}
            today: a year{data.annual ? ` at ${data.annual}` : ""}, less what is left of the month
            you have paid for. Your year starts today.
          </p>
          <div class="actions">
            <form method="post" action="/settings/upgrade">
              <input
                type="hidden"
                name="proration_date"
                value={String(data.preview.prorationDate)}
              />
              <button type="submit" class="btn">Switch and pay now</button>
            </form>
            <a class="btn btn-secondary" href="/settings">Stay monthly</a>
          </div>
        </>
      )}
      {!data.preview && <a class="btn btn-secondary" href="/settings">Back to settings</a>}
    </section>
  );
});
