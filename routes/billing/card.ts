import { define } from "../../lib/state.ts";
import { openBillingPortal } from "../../lib/billing/portal.ts";

/**
 * "Update your card": Stripe's portal, straight at the card form. A plain form post from the
 * warning every page shows while a payment is failing; when Stripe fails, the error page says so.
 */
export const handler = define.handlers({
  async POST(ctx) {
    const user = ctx.state.user;
    if (!user) return ctx.redirect("/login?next=/settings", 303);
    const portal = await openBillingPortal(ctx.state, user, { flow: "payment_method_update" });
    return ctx.redirect(portal.url, 303);
  },
});
