import { define } from "../../lib/state.ts";
import { openBillingPortal } from "../../lib/billing/portal.ts";

/**
 * "Update your card": Stripe's portal, straight at the card form — a link from the warning every
 * page shows while a payment is failing and from the payment-failed email. Creating a portal
 * session changes nothing here, so a GET may do it. When Stripe fails, the error page says so.
 */
export const handler = define.handlers({
  async GET(ctx) {
    const user = ctx.state.user;
    if (!user) return ctx.redirect("/login?next=/billing/card", 303);
    const portal = await openBillingPortal(ctx.state, user, { flow: "payment_method_update" });
    return ctx.redirect(portal.url, 303);
  },
});
