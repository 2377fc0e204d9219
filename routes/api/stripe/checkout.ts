import { z } from "zod";
import { define } from "../../../lib/define.ts";
import { readJsonBody } from "../../../lib/http/api.ts";
import { HttpError } from "../../../lib/web/define.ts";
import { requireApiPrincipal } from "../../../lib/auth/guards.ts";
import { startCheckout } from "../../../lib/billing/checkout.ts";
import { CADENCES } from "../../../lib/billing/plans.ts";

const Body = z.object({
  cadence: z.enum(CADENCES, { error: 'must be "monthly" or "annual"' }),
  reg36Waiver: z.boolean({ error: "must be true or false" }),
}).strict();

export const handler = define.handlers({
  async POST(ctx) {
    const principal = requireApiPrincipal(ctx);
    if (principal.kind === "admin") {
      throw new HttpError(400, "The admin token cannot buy a subscription", {
        code: "admin_cannot_buy",
      });
    }
    const body = await readJsonBody(ctx.req, Body);
    const checkout = await startCheckout(ctx.state, principal.user, body, {
      ip: ctx.state.clientIp,
      userAgent: ctx.req.headers.get("user-agent"),
    });
    return Response.json(checkout);
  },
});
