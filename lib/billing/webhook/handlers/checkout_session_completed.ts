/**
 * `checkout.session.completed`: a person finished Stripe Checkout. It links their Stripe customer
 * and grants nothing: what they have is decided by the subscription's own events, which say
 * whether it is trialing, active or still waiting for a delayed payment (`payment_status` not
 * `paid`), in whatever order they arrive.
 */
import { lockPerson, setStripeCustomer } from "../../entitlement.ts";
import { CheckoutSessionObject } from "./objects.ts";
import { type EventHandler, personNotFound } from "./context.ts";

export const checkoutSessionCompleted: EventHandler = {
  async apply(ctx) {
    const session = CheckoutSessionObject.parse(ctx.event.data.object);
    const user = await lockPerson(ctx.tx, {
      userId: session.client_reference_id,
      customerId: session.customer,
    });
    // A deleted account takes no customer again, whatever arrives late.
    if (!user || user.deletedAt) return personNotFound(ctx, session.customer);
    if (session.customer) await setStripeCustomer(ctx.tx, user.id, session.customer);
    ctx.log.info("stripe.checkout_completed", {
      event_id: ctx.event.id,
      user_id: user.id,
      subscription_id: session.subscription ?? null,
      payment_status: session.payment_status ?? null,
    });
  },
};
