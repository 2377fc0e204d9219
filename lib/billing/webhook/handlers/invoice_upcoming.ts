/**
 * `invoice.upcoming` (some days before a renewal): for annual plans, the reminder the UK's
 * subscription rules require before a renewal — date, amount, a one-step way to cancel. (Monthly
 * subscribers hear every six months instead; `notices/send.ts` schedules those.)
 */
import { lockPerson } from "../../entitlement.ts";
import { findSubscription } from "../../subscriptions.ts";
import { cadenceOf } from "../../plans.ts";
import { enqueueNotice } from "../../../notices/send.ts";
import { InvoiceObject } from "./objects.ts";
import { type EventHandler, personNotFound } from "./context.ts";

export const invoiceUpcoming: EventHandler = {
  async apply(ctx) {
    const invoice = InvoiceObject.parse(ctx.event.data.object);
    const subscriptionId = invoice.parent?.subscription_details?.subscription;
    const renewsAt = invoice.next_payment_attempt ?? invoice.period_end;
    if (!subscriptionId || !renewsAt) return;
    const subscription = await findSubscription(ctx.tx, subscriptionId);
    if (!subscription || cadenceOf(ctx.config, subscription.priceId) !== "annual") return;
    const user = await lockPerson(ctx.tx, { customerId: invoice.customer });
    if (!user) return personNotFound(ctx, invoice.customer);
    const renewsOn = new Date(renewsAt * 1000).toISOString();
    await enqueueNotice(ctx.tx, {
      kind: "renewal_coming",
      userId: user.id,
      trigger: `${subscriptionId}:${renewsOn}`,
      data: {
        renewsOn,
        price: invoice.amount_due !== undefined && invoice.currency
          ? { amount: invoice.amount_due, currency: invoice.currency }
          : null,
        plan: "annual",
      },
    }, ctx.now);
  },
};
