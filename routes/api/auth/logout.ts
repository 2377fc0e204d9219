import { define } from "../../../lib/state.ts";
import { signOut } from "../../../lib/http/sign_out.ts";

export const handler = define.handlers({
  async POST(ctx) {
    const headers = await signOut(ctx.state);
    return Response.json({ status: "signed_out" }, { headers });
  },
});
