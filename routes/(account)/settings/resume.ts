import { define } from "../../../lib/state.ts";
import { setCancelAtPeriodEnd } from "../../../lib/billing/manage.ts";

/** Undo a cancellation before the period ends: one button on the settings page. */
export const handler = define.handlers({
  async POST(ctx) {
    await setCancelAtPeriodEnd(ctx.state, ctx.state.user!, false);
    return ctx.redirect("/settings?done=resumed", 303);
  },
});
