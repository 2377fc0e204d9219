import { define } from "../../lib/state.ts";
import { rememberReferral } from "../../lib/http/referral_link.ts";

/** A friend's referral link: remember the invitation, then show the front page. */
export const handler = define.handlers({
  GET: (ctx) => rememberReferral(ctx.state, ctx.params.code, ctx.redirect("/", 303)),
});
