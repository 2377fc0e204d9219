import { define } from "../../../lib/state.ts";
import type { RouteConfig } from "../../../lib/web/mod.ts";
import {
  receiveStripeWebhook,
  WEBHOOK_MAX_BYTES,
  WEBHOOK_PATH,
} from "../../../lib/billing/webhook/receive.ts";

/** Stripe is configured with this URL, so it stays put whatever the file is called. */
export const config: RouteConfig = { routeOverride: WEBHOOK_PATH, maxBodyBytes: WEBHOOK_MAX_BYTES };

export const handler = define.handlers({
  async POST(ctx) {
    const outcome = await receiveStripeWebhook(
      ctx.state,
      await ctx.req.text(),
      ctx.req.headers.get("stripe-signature"),
    );
    return Response.json({ status: outcome });
  },
});
