/**
 * `charge.dispute.created`, `.updated` and `.closed`: while the payment that converted a referral
 * is disputed, both sides' reward is taken back; a dispute won gives it back, one lost keeps it
 * taken. Each dispute's newest status is recorded (a closed one stays closed), so the order the
 * events arrive in does not matter.
 */
import { recordDispute, referralConvertedBy, settleReward } from "../../../referrals/rewards.ts";
import { DisputeObject } from "./objects.ts";
import type { EventHandler } from "./context.ts";

export const chargeDispute: EventHandler = {
  async apply(ctx) {
    const dispute = DisputeObject.parse(ctx.event.data.object);
    await recordDispute(ctx.tx, dispute, new Date(ctx.event.created * 1000));
    const referralId = await referralConvertedBy(ctx.tx, dispute.charge);
    if (referralId === null) return;
    const status = await settleReward(ctx.tx, referralId, ctx.now);
    ctx.log.info("referral.payment_disputed", {
      event_id: ctx.event.id,
      referral_id: referralId,
      dispute_id: dispute.id,
      dispute_status: dispute.status,
      reward: status,
    });
  },
};
