import { define } from "../../../lib/define.ts";
import { HttpError } from "../../../lib/web/define.ts";
import { requireApiPrincipal } from "../../../lib/auth/guards.ts";
import { openBillingPortal } from "../../../lib/billing/portal.ts";

export const handler = define.handlers({
  async POST(ctx) {
    const principal = requireApiPrincipal(ctx);
    if (principal.kind === "admin") {
      throw new HttpError(400, "The admin token has no billing account", {
        code: "admin_has_no_portal",
      });
    }
    return Response.json(await openBillingPortal(ctx.state, principal.user));
  },
});
