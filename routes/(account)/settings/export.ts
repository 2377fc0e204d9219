import { define } from "../../../lib/state.ts";
import { exportAccountData } from "../../../lib/account/export.ts";

/** "Download my data": everything held about the signed-in person, as a JSON file. */
export const handler = define.handlers({
  async GET(ctx) {
    const now = ctx.state.now();
    const data = await exportAccountData(ctx.state, ctx.state.user!, now);
    const day = now.toISOString().slice(0, 10);
    return new Response(JSON.stringify(data, null, 2), {
      headers: {
        "content-type": "application/json; charset=utf-8",
        "content-disposition": `attachment; filename="read-markets-data-${day}.json"`,
        "cache-control": "no-store",
      },
    });
  },
});
