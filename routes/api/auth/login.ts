import { z } from "zod";
import { define } from "../../../lib/state.ts";
import { apiError, readJsonBody } from "../../../lib/http/api.ts";
import { askForSignInLink } from "../../../lib/auth/sign_in.ts";
import { signInBrowser } from "../../../lib/http/sign_in_browser.ts";

const Body = z.object({ email: z.string(), next: z.string().optional() });

export const SENT = {
  status: "sent",
  message: "If that address can receive email, a sign-in link is on its way.",
};

export const handler = define.handlers({
  async POST(ctx) {
    const body = await readJsonBody(ctx.req, Body);
    const browser = signInBrowser(ctx.state);
    const result = await askForSignInLink(ctx.state, {
      ...body,
      ip: ctx.state.clientIp,
      referralCode: ctx.state.pendingReferral,
      browserNonce: browser.nonce,
    });
    switch (result.outcome) {
      case "sent":
        return Response.json(SENT, { status: 202, headers: { "set-cookie": browser.setCookie } });
      case "invalid":
        return apiError(400, result.message, "invalid_email");
      case "rate_limited":
        return apiError(
          429,
          `Too many sign-in requests; try again in ${result.retryAfterSeconds} seconds`,
          "rate_limited",
          { "retry-after": String(result.retryAfterSeconds) },
        );
      case "unavailable":
        return apiError(503, "We could not send the email just now; please try again");
    }
  },
});
