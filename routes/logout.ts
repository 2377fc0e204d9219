import { define } from "../lib/state.ts";
import { signOut } from "../lib/http/sign_out.ts";

/** The sign-out button in the page header: a plain form post, so it works without JavaScript. */
export const handler = define.handlers({
  async POST(ctx) {
    const headers = await signOut(ctx.state);
    headers.set("location", "/");
    return new Response(null, { status: 303, headers });
  },
});
