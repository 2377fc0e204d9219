import { define } from "../../../lib/state.ts";
import { requirePerson } from "../../../lib/http/guards.ts";
import { openBillingPortal } from "../../../lib/billing/portal.ts";

export const handler = define.handlers({
  async POST(ctx) {
    const user = requirePerson(ctx, {
      code: "admin_has_no_portal",
      message: "The admin token has no billing account",
    });
    return Response.json(await openBillingPortal(ctx.state, user));
  },
});
