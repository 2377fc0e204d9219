import { define } from "../lib/state.ts";
import { checkHealth } from "../lib/health.ts";

export const handler = define.handlers({
  async GET(ctx) {
    const health = await checkHealth(ctx.state.db, ctx.state.migrations);
    return Response.json(health, {
      status: health.status === "ok" ? 200 : 503,
      headers: { "cache-control": "no-store" },
    });
  },
});
