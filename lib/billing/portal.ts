/** The Stripe Customer Portal: where subscribers change card, plan or cancel. */
import type { Services } from "../services.ts";
import type { User } from "../auth/users.ts";
import { DomainError } from "../domain_error.ts";
import { requireStripe, stripeFailure } from "./stripe_calls.ts";

export async function openBillingPortal(
  services: Pick<Services, "config" | "stripe" | "log">,
  user: User,
): Promise<{ url: string }> {
  const stripe = requireStripe(services);
  if (!user.stripeCustomerId) {
    throw new DomainError(
      "not_found",
      "no_stripe_customer",
      "There is no billing account yet: start a subscription first",
    );
  }
  try {
    const portal = await stripe.billingPortal.sessions.create({
      customer: user.stripeCustomerId,
      return_url: `${services.config.siteUrl}/settings`,
    });
    return { url: portal.url };
  } catch (error) {
    services.log.error("stripe.portal.create_failed", { user_id: user.id, error });
    throw stripeFailure(error);
  }
}
