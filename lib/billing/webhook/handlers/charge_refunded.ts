/**
 * `charge.refunded`: a refund in full of the payment that converted a referral takes both
 * sides' reward back. A partial refund keeps it. The refund is recorded by charge, so it counts
 * even if the conversion lands after it.
 */
import { recordFullRefund, referralConvertedBy, settleReward } from "../../../referrals/rewards.ts";
import { ChargeObject } from "./objects.ts";
import type { EventHandler } from "./context.ts";

export const chargeRefunded: EventHandler = {
  async apply(ctx) {
    const charge = ChargeObject.parse(ctx.event.data.object);
    if (charge.amount_refunded < charge.amount) return;
    await recordFullRefund(ctx.tx, charge.id, ctx.now);
    const referralId = await referralConvertedBy(ctx.tx, charge.id);
    if (referralId === null) return;
    const status = await settleReward(ctx.tx, referralId, ctx.now);
    ctx.log.info("referral.payment_refunded", {
      event_id: ctx.event.id,
      referral_id: referralId,
      charge_id: charge.id,
      reward: status,
    });
  },
};
