/**
 * `customer.deleted`: the person's Stripe customer is gone, and Stripe cancelled its
 * subscriptions. Forget the customer (the next checkout mints a new one) and end what it had.
 */
import { endLiveSubscriptions } from "../../subscriptions.ts";
import { forgetStripeCustomer, lockPerson, refreshPerson } from "../../entitlement.ts";
import { CustomerObject } from "./objects.ts";
import { type EventHandler, personNotFound } from "./context.ts";

export const customerDeleted: EventHandler = {
  async apply(ctx) {
    const customer = CustomerObject.parse(ctx.event.data.object);
    const user = await lockPerson(ctx.tx, { customerId: customer.id });
    if (!user) return personNotFound(ctx, customer.id);
    await forgetStripeCustomer(ctx.tx, user.id, customer.id);
    const ended = await endLiveSubscriptions(ctx.tx, user.id, new Date(ctx.event.created * 1000));
    await refreshPerson(ctx.tx, user.id);
    ctx.log.info("stripe.customer_deleted", {
      event_id: ctx.event.id,
      user_id: user.id,
      customer_id: customer.id,
      subscriptions_ended: ended,
    });
  },
};
