import { define } from "../../../lib/state.ts";
import { requireApiPrincipal } from "../../../lib/http/guards.ts";
import { hasPaidAccess } from "../../../lib/billing/entitlement.ts";

/**
 * Who the request is authenticated as: a person (by session), with whether they may read paid
 * content now, or the operator (admin token).
 */
export const handler = define.handlers({
  GET(ctx) {
    const principal = requireApiPrincipal(ctx);
    if (principal.kind === "admin") return Response.json({ kind: "admin" });
    const { user } = principal;
    const { now, config } = ctx.state;
    return Response.json({
      kind: "user",
      email: user.email,
      referralCode: user.referralCode,
      paidAccess: hasPaidAccess(user, now(), config.pastDueGraceDays),
    });
  },
});
