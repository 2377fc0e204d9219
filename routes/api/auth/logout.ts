import { define } from "../../../lib/define.ts";
import { signOut } from "../../../lib/auth/sign_out.ts";

export const handler = define.handlers({
  async POST(ctx) {
    const headers = await signOut(ctx.state);
    return Response.json({ status: "signed_out" }, { headers });
  },
});
