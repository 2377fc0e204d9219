import { z } from "zod";
import { define } from "../../../lib/state.ts";
import { readJsonBody } from "../../../lib/http/api.ts";
import { requirePerson } from "../../../lib/http/guards.ts";
import { startCheckout } from "../../../lib/billing/checkout.ts";
import { CADENCES } from "../../../lib/billing/plans.ts";

const Body = z.object({
  cadence: z.enum(CADENCES, { error: 'must be "monthly" or "annual"' }),
  reg36Waiver: z.boolean({ error: "must be true or false" }),
}).strict();

export const handler = define.handlers({
  async POST(ctx) {
    const user = requirePerson(ctx, {
      code: "admin_cannot_buy",
      message: "The admin token cannot buy a subscription",
    });
    const body = await readJsonBody(ctx.req, Body);
    const checkout = await startCheckout(ctx.state, user, body, {
      ip: ctx.state.clientIp,
      userAgent: ctx.req.headers.get("user-agent"),
    });
    return Response.json(checkout);
  },
});
