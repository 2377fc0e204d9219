/**
 * Billing portal configurations: which features the hosted portal offers. The simulator models
 * the four the app sets — cancelling (at period end or at once), switching plans, updating the
 * card and the invoice history — plus the headline and the default return URL; every other
 * feature keeps Stripe's disabled shape.
 */
import type Stripe from "stripe";
import { SIMULATED_PRICE_ANNUAL, SIMULATED_PRICE_MONTHLY, SIMULATED_PRODUCT } from "./catalog.ts";
import { newId } from "./ids.ts";
import type { Metadata, Wire } from "./objects.ts";

export type PortalConfiguration = Wire<Stripe.BillingPortal.Configuration>;
export type CancelMode = "at_period_end" | "immediately";
export type ProrationBehavior = "always_invoice" | "create_prorations" | "none";

/** The features a create or update request may set; absent ones are left as they are. */
export interface PortalFeatureChanges {
  subscription_cancel?: { enabled?: boolean; mode?: CancelMode };
  subscription_update?: { enabled?: boolean; proration_behavior?: ProrationBehavior };
  payment_method_update?: { enabled?: boolean };
  invoice_history?: { enabled?: boolean };
}

export interface PortalConfigurationChanges {
  active?: boolean;
  features?: PortalFeatureChanges;
  headline?: string | null;
  defaultReturnUrl?: string | null;
  metadata?: Metadata;
}

export function portalConfigurationObject(
  input: { id?: string; isDefault: boolean; now: number },
): PortalConfiguration {
  return {
    id: input.id ?? newId("bpc"),
    object: "billing_portal.configuration",
    active: true,
    application: null,
    business_profile: { headline: null, privacy_policy_url: null, terms_of_service_url: null },
    created: input.now,
    default_return_url: null,
    features: {
      customer_update: { allowed_updates: [], enabled: false },
      invoice_history: { enabled: false },
      payment_method_update: { enabled: false, payment_method_configuration: null },
      subscription_cancel: {
        cancellation_reason: { enabled: false, feedback_options: null, options: [] },
        enabled: false,
        mode: "at_period_end",
        proration_behavior: "none",
      },
      subscription_pause: {
        duration: { interval_options: [], type: "indefinite" },
        enabled: false,
      },
      subscription_update: {
        billing_cycle_anchor: null,
        default_allowed_updates: [],
        enabled: false,
        products: [],
        proration_behavior: "none",
        schedule_at_period_end: { conditions: [] },
        trial_update_behavior: "end_trial",
      },
    },
    is_default: input.isDefault,
    livemode: false,
    login_page: { enabled: false, url: null },
    metadata: {},
    name: null,
    updated: input.now,
  };
}

/**
 * The configuration portal sessions get when they name none. It offers everything the
 * simulator's portal can do; its page shows both cancel buttons, as it always has, whatever
 * `mode` says (see `cancelButtons`).
 */
export function defaultPortalConfiguration(now: number): PortalConfiguration {
  const configuration = portalConfigurationObject({ id: "bpc_sim_default", isDefault: true, now });
  applyPortalConfigurationChanges(configuration, {
    features: {
      subscription_cancel: { enabled: true, mode: "at_period_end" },
      subscription_update: { enabled: true, proration_behavior: "always_invoice" },
      payment_method_update: { enabled: true },
      invoice_history: { enabled: true },
    },
  }, now);
  return configuration;
}

export function applyPortalConfigurationChanges(
  configuration: PortalConfiguration,
  changes: PortalConfigurationChanges,
  now: number,
): void {
  const { features } = configuration;
  const asked = changes.features ?? {};
  if (asked.subscription_cancel) {
    Object.assign(features.subscription_cancel, defined(asked.subscription_cancel));
  }
  if (asked.subscription_update) {
    Object.assign(features.subscription_update, defined(asked.subscription_update));
    const enabled = features.subscription_update.enabled;
    features.subscription_update.default_allowed_updates = enabled ? ["price"] : [];
    // The catalog's one product, with both of its prices, is what a plan switch can choose.
    features.subscription_update.products = enabled
      ? [{
        adjustable_quantity: { enabled: false, maximum: null, minimum: 1 },
        prices: [SIMULATED_PRICE_MONTHLY, SIMULATED_PRICE_ANNUAL],
        product: SIMULATED_PRODUCT,
      }]
      : [];
  }
  if (asked.payment_method_update) {
    Object.assign(features.payment_method_update, defined(asked.payment_method_update));
  }
  if (asked.invoice_history) {
    Object.assign(features.invoice_history, defined(asked.invoice_history));
  }
  if (changes.active !== undefined) configuration.active = changes.active;
  if (changes.headline !== undefined) configuration.business_profile.headline = changes.headline;
  if (changes.defaultReturnUrl !== undefined) {
    configuration.default_return_url = changes.defaultReturnUrl;
  }
  if (changes.metadata !== undefined) configuration.metadata = changes.metadata;
  configuration.updated = now;
}

/** Which cancel buttons a portal shows: the built-in configuration keeps offering both. */
export function cancelButtons(configuration: PortalConfiguration): CancelMode[] {
  const cancel = configuration.features.subscription_cancel;
  if (!cancel.enabled) return [];
  if (configuration.id === "bpc_sim_default") return ["at_period_end", "immediately"];
  return [cancel.mode as CancelMode];
}

function defined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<
    T
  >;
}
