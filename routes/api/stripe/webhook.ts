import { define } from "../../../lib/define.ts";
import { receiveStripeWebhook } from "../../../lib/billing/webhook.ts";

export const handler = define.handlers({
  async POST(ctx) {
    const answer = await receiveStripeWebhook(
      ctx.state,
      await ctx.req.text(),
      ctx.req.headers.get("stripe-signature"),
    );
    return Response.json(answer.body, { status: answer.status });
  },
});
