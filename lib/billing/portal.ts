/**
 * The Stripe Customer Portal: where subscribers see invoices, change their card and cancel. Plan
 * switching stays out of it (`portalConfiguration`): switching to monthly there would skip the
 * Reg-36 waiver, so the app offers the one switch it allows (monthly → annual) itself.
 */
import type Stripe from "stripe";
import type { Services } from "../services.ts";
import type { User } from "../auth/users.ts";
import { DomainError } from "../domain_error.ts";
import { brand } from "../brand.ts";
import { requireStripe, stripeFailure } from "./stripe_calls.ts";
import { forgetMissingCustomer, isMissingCustomer } from "./customers.ts";
import { limitBillingSessions } from "./limits.ts";

type PortalServices = Pick<Services, "config" | "db" | "stripe" | "log" | "now">;

/** The portal's front page, or with `flow: "payment_method_update"` straight to a new card. */
export async function openBillingPortal(
  services: PortalServices,
  user: User,
  options: { flow?: "payment_method_update" } = {},
): Promise<{ url: string }> {
  const stripe = requireStripe(services);
  const customer = user.stripeCustomerId;
  if (!customer) throw noBillingAccount();
  await limitBillingSessions(services, user.id, "portal");
  const returnUrl = `${services.config.siteUrl}/settings`;
  try {
    const portal = await stripe.billingPortal.sessions.create({
      customer,
      return_url: returnUrl,
      ...(services.config.stripe.portalConfiguration
        ? { configuration: services.config.stripe.portalConfiguration }
        : {}),
      ...(options.flow
        ? {
          flow_data: {
            type: options.flow,
            after_completion: { type: "redirect", redirect: { return_url: returnUrl } },
          },
        }
        : {}),
    });
    return { url: portal.url };
  } catch (error) {
    if (isMissingCustomer(error, customer)) {
      // Deleted in Stripe: forget it; the next checkout makes a new one.
      await forgetMissingCustomer(services.db, user, customer);
      services.log.warn("stripe.customer_forgotten", { user_id: user.id, customer_id: customer });
      throw noBillingAccount();
    }
    services.log.error("stripe.portal.create_failed", { user_id: user.id, error });
    throw stripeFailure(error);
  }
}

function noBillingAccount(): DomainError {
  return new DomainError(
    "not_found",
    "no_stripe_customer",
    "There is no billing account yet: start a subscription first",
  );
}

const PORTAL_FEATURES: Stripe.BillingPortal.ConfigurationCreateParams.Features = {
  customer_update: { enabled: false },
  invoice_history: { enabled: true },
  payment_method_update: { enabled: true },
  subscription_cancel: { enabled: true, mode: "at_period_end" },
  subscription_update: { enabled: false },
};

/**
 * The portal configuration this app needs, made once and brought up to date on every run: it is
 * found again by its metadata, so running this twice changes nothing. Returns its id, for
 * `STRIPE_PORTAL_CONFIGURATION`.
 */
export async function ensurePortalConfiguration(
  stripe: Stripe,
  siteUrl: string,
): Promise<{ id: string; created: boolean }> {
  const params = {
    features: PORTAL_FEATURES,
    business_profile: { headline: `${brand.name}: your subscription` },
    default_return_url: `${siteUrl}/settings`,
    metadata: { app: "read-markets" },
  };
  const existing = await stripe.billingPortal.configurations.list({ limit: 100 });
  const ours = existing.data.find((c) => c.metadata?.app === "read-markets");
  if (ours) {
    const { metadata: _, ...update } = params;
    await stripe.billingPortal.configurations.update(ours.id, update);
    return { id: ours.id, created: false };
  }
  const created = await stripe.billingPortal.configurations.create(params);
  return { id: created.id, created: true };
}
