import { define } from "../../../../lib/state.ts";
import { requireAdmin } from "../../../../lib/http/guards.ts";
import { ApiError } from "../../../../lib/http/errors.ts";
import { hasControlCharacters } from "../../../../lib/text.ts";
import { findRecordedEvent } from "../../../../lib/billing/webhook/ledger.ts";

/** A Stripe event's audit row, for operators: did it arrive, was it applied, why not. */
export const handler = define.handlers({
  async GET(ctx) {
    requireAdmin(ctx);
    const id = ctx.params.id;
    // Ids the webhook could never have stored (too long, control characters) are simply unknown.
    const storable = id.length <= 255 && !hasControlCharacters(id);
    const event = storable ? await findRecordedEvent(ctx.state.db, id) : null;
    if (!event) throw new ApiError(404, `No Stripe event ${id.slice(0, 80)} has been received`);
    return Response.json(event, { headers: { "cache-control": "no-store" } });
  },
});
