import { define } from "../../../lib/state.ts";
import { requireApiPrincipal } from "../../../lib/http/guards.ts";

/** Who the request is authenticated as: a person (by session) or the operator (admin token). */
export const handler = define.handlers({
  GET(ctx) {
    const principal = requireApiPrincipal(ctx);
    if (principal.kind === "admin") return Response.json({ kind: "admin" });
    const { email, referralCode } = principal.user;
    return Response.json({ kind: "user", email, referralCode });
  },
});
