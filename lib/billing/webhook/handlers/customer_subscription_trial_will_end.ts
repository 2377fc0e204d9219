/**
 * `customer.subscription.trial_will_end` (three days before a trial ends): the notice the UK's
 * subscription rules require before a free trial turns into a paid period — the date of the
 * first charge, the amount, and a one-step way to cancel. When the "trial" is a subscriber's
 * next charge moved by referral credit, it is the renewal reminder instead (the same one
 * `invoice.upcoming` sends, so one of the two is sent).
 */
import { lockPerson } from "../../entitlement.ts";
import { enqueueNotice } from "../../../notices/send.ts";
import { SubscriptionObject } from "./objects.ts";
import { snapshotOf } from "./subscription_change.ts";
import { type EventHandler, personNotFound } from "./context.ts";
import { cadenceOf } from "../../plans.ts";
import { isMovedCharge } from "../../next_charge.ts";

export const customerSubscriptionTrialWillEnd: EventHandler = {
  async apply(ctx) {
    const subscription = SubscriptionObject.parse(ctx.event.data.object);
    const user = await lockPerson(ctx.tx, { customerId: subscription.customer });
    if (!user) return personNotFound(ctx, subscription.customer);
    const snapshot = snapshotOf(subscription, "updated");
    if (!snapshot.trialEnd || snapshot.cancelAtPeriodEnd) return;
    const price = snapshot.amount !== null && snapshot.currency
      ? { amount: snapshot.amount, currency: snapshot.currency }
      : null;
    const plan = cadenceOf(ctx.config, snapshot.priceId) ?? "subscription";
    if (await isMovedCharge(ctx.tx, snapshot.id, snapshot.trialEnd)) {
      const renewsOn = snapshot.trialEnd.toISOString();
      await enqueueNotice(ctx.tx, {
        kind: "renewal_coming",
        userId: user.id,
        trigger: `${snapshot.id}:${renewsOn}`,
        data: { renewsOn, price, plan },
      }, ctx.now);
      return;
    }
    await enqueueNotice(ctx.tx, {
      kind: "trial_ending",
      userId: user.id,
      trigger: `${snapshot.id}:${snapshot.trialEnd.toISOString()}`,
      data: {
        chargeOn: snapshot.trialEnd.toISOString(),
        price,
        plan,
      },
    }, ctx.now);
  },
};
