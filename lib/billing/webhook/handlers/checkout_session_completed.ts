/** `checkout.session.completed`: a person paid (or started a trial) on Stripe Checkout. */
import { knownStatus, subscriptionEnded } from "../../subscriptions.ts";
import { lockPerson, markPaid, setStripeCustomer } from "../../entitlement.ts";
import { CheckoutSessionObject } from "./objects.ts";
import { type EventContext, personNotFound } from "./context.ts";

export async function checkoutSessionCompleted(ctx: EventContext): Promise<void> {
  const session = CheckoutSessionObject.parse(ctx.event.data.object);
  const user = await lockPerson(ctx.tx, {
    userId: session.client_reference_id,
    customerId: session.customer,
  });
  if (!user) return personNotFound(ctx, session.customer);
  if (session.customer) await setStripeCustomer(ctx.tx, user.id, session.customer);
  if (!session.subscription) return;
  if (await subscriptionEnded(ctx.tx, session.subscription)) {
    ctx.log.info("stripe.stale_event", { event_id: ctx.event.id, reason: "subscription ended" });
    return;
  }
  // The session does not say whether the subscription is trialing; the subscription's own
  // event does, and may have arrived already.
  const status = await knownStatus(ctx.tx, session.subscription) ??
    (user.stripeSubscriptionId === session.subscription ? user.stripeSubscriptionStatus : null);
  await markPaid(
    ctx.tx,
    user.id,
    session.subscription,
    status,
    status === "trialing" ? user.stripeTrialEndAt : null,
  );
}
