import { define } from "../../lib/state.ts";
import { openBillingPortal } from "../../lib/billing/portal.ts";
import type { Context } from "../../lib/web/mod.ts";
import type { State } from "../../lib/state.ts";

/**
 * "Update your card": Stripe's portal, straight at the card form. From the warning every page
 * shows while a payment is failing (a form post) and from the payment-failed email (a link);
 * creating a portal session changes nothing here, so a link may do it. When Stripe fails, the
 * error page says so.
 */
async function openCardForm(ctx: Context<State>): Promise<Response> {
  const user = ctx.state.user;
  if (!user) return ctx.redirect("/login?next=/billing/card", 303);
  const portal = await openBillingPortal(ctx.state, user, { flow: "payment_method_update" });
  return ctx.redirect(portal.url, 303);
}

export const handler = define.handlers({ GET: openCardForm, POST: openCardForm });
