import { define } from "../../lib/define.ts";
import { captureReferral } from "../../lib/referrals/capture.ts";

/** A friend's referral link: remember the invitation, then show the front page. */
export const handler = define.handlers({
  GET: (ctx) => captureReferral(ctx.state, ctx.params.code, ctx.redirect("/", 303)),
});
