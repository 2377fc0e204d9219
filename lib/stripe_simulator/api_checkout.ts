/**
 * `/v1/checkout/sessions` and `/v1/billing_portal/…`: where the app sends people to pay and to
 * manage what they pay for, and the portal's configurations.
 */
import type { Hono } from "hono";
import { z } from "zod";
import {
  customerParam,
  email,
  type EndpointFactory,
  found,
  listPage,
  listParams,
  retrieveParams,
} from "./api_support.ts";
import { invalidRequest, noSuch } from "./errors.ts";
import {
  checkoutLineItem,
  checkoutSessionObject,
  type PortalFlow,
  portalSessionObject,
} from "./objects.ts";
import {
  applyMetadata,
  expandParam,
  formArray,
  formBoolean,
  formInteger,
  formMetadata,
  formString,
  formUrl,
} from "./params.ts";
import {
  applyPortalConfigurationChanges,
  portalConfigurationObject,
} from "./portal_configurations.ts";
import type { Store } from "./store.ts";

const checkoutCreateParams = z.strictObject({
  mode: z.enum(["payment", "setup", "subscription"]),
  line_items: formArray(z.strictObject({
    price: formString(),
    quantity: formInteger({ min: 1, max: 999_999 }),
  })),
  customer: formString().optional(),
  customer_email: email.optional(),
  client_reference_id: formString(200).optional(),
  success_url: formUrl,
  cancel_url: formUrl.optional(),
  allow_promotion_codes: formBoolean.optional(),
  subscription_data: z.strictObject({
    trial_period_days: formInteger({ min: 1, max: 730 }).optional(),
    trial_settings: z.strictObject({
      end_behavior: z.strictObject({
        missing_payment_method: z.enum(["cancel", "create_invoice", "pause"]),
      }),
    }).optional(),
    metadata: formMetadata.optional(),
  }).optional(),
  metadata: formMetadata.optional(),
  expand: expandParam,
});

const checkoutListParams = z.strictObject({
  ...listParams,
  customer: formString().optional(),
  status: z.enum(["open", "complete", "expired"]).optional(),
  subscription: formString().optional(),
});

const flowData = z.strictObject({
  type: z.enum(["payment_method_update"]),
  after_completion: z.strictObject({
    type: z.enum(["hosted_confirmation", "portal_homepage", "redirect"]),
    redirect: z.strictObject({ return_url: formUrl }).optional(),
    hosted_confirmation: z.strictObject({ custom_message: formString(500).optional() })
      .optional(),
  }).optional(),
});

const portalCreateParams = z.strictObject({
  customer: formString(),
  return_url: formUrl.optional(),
  configuration: formString().optional(),
  flow_data: flowData.optional(),
  expand: expandParam,
});

const enabled = z.strictObject({ enabled: formBoolean.optional() });
const portalFeatures = z.strictObject({
  subscription_cancel: z.strictObject({
    enabled: formBoolean.optional(),
    mode: z.enum(["at_period_end", "immediately"]).optional(),
  }).optional(),
  subscription_update: z.strictObject({
    enabled: formBoolean.optional(),
    proration_behavior: z.enum(["always_invoice", "create_prorations", "none"]).optional(),
  }).optional(),
  payment_method_update: enabled.optional(),
  invoice_history: enabled.optional(),
});
const configurationFields = {
  business_profile: z.strictObject({
    headline: z.union([z.literal(""), formString(60)]).optional(),
  }).optional(),
  default_return_url: z.union([z.literal(""), formUrl]).optional(),
  metadata: formMetadata.optional(),
  expand: expandParam,
};
const configurationCreateParams = z.strictObject({
  ...configurationFields,
  features: portalFeatures,
});
const configurationUpdateParams = z.strictObject({
  ...configurationFields,
  active: formBoolean.optional(),
  features: portalFeatures.optional(),
});
const configurationListParams = z.strictObject({
  ...listParams,
  active: formBoolean.optional(),
  is_default: formBoolean.optional(),
});

type ConfigurationParams = z.output<typeof configurationUpdateParams>;

export function apiCheckoutRoutes(api: Hono, endpoint: EndpointFactory, store: Store): void {
  api.post(
    "/v1/checkout/sessions",
    endpoint(checkoutCreateParams, (params, call) => {
      if (params.mode !== "subscription") {
        throw invalidRequest("The Stripe simulator supports only mode=subscription.", "mode");
      }
      if (params.line_items.length !== 1) {
        throw invalidRequest(
          "The Stripe simulator sells exactly one price per subscription checkout.",
          "line_items",
        );
      }
      if (params.customer && params.customer_email) {
        throw invalidRequest(
          "You may only specify one of these parameters: customer, customer_email.",
          "customer_email",
        );
      }
      const [item] = params.line_items;
      const price = store.prices.get(item.price);
      if (!price) throw noSuch("price", item.price, "line_items[0][price]");
      if (!price.recurring) {
        throw invalidRequest(
          "You must provide at least one recurring price in `subscription` mode when using prices.",
          "line_items[0][price]",
        );
      }
      const customer = params.customer ? customerParam(store, params.customer) : null;
      const subscriptionData = params.subscription_data;
      const lineItem = checkoutLineItem(price, item.quantity);
      const session = checkoutSessionObject({
        url: (sessionId) => `${call.origin}/checkout/${sessionId}`,
        price,
        quantity: item.quantity,
        customer,
        customerEmail: params.customer_email ?? null,
        clientReferenceId: params.client_reference_id ?? null,
        successUrl: params.success_url,
        cancelUrl: params.cancel_url ?? null,
        allowPromotionCodes: params.allow_promotion_codes ?? null,
        trialPeriodDays: subscriptionData?.trial_period_days ?? null,
        metadata: applyMetadata({}, params.metadata),
        now: store.nowUnix(),
      });
      store.checkouts.set(session.id, {
        session,
        lineItem,
        trialPeriodDays: subscriptionData?.trial_period_days ?? null,
        subscriptionMetadata: applyMetadata({}, subscriptionData?.metadata),
        missingPaymentMethod:
          subscriptionData?.trial_settings?.end_behavior.missing_payment_method ??
            "create_invoice",
        unsettledInvoice: null,
      });
      return session;
    }),
  );

  api.get(
    "/v1/checkout/sessions",
    endpoint(checkoutListParams, (params) => {
      if (params.customer) customerParam(store, params.customer);
      const sessions = [...store.checkouts.values()]
        .map((record) => record.session)
        .filter((session) =>
          (!params.customer || session.customer === params.customer) &&
          (!params.status || session.status === params.status) &&
          (!params.subscription || session.subscription === params.subscription)
        );
      return listPage(sessions, params, "/v1/checkout/sessions");
    }),
  );

  api.get(
    "/v1/checkout/sessions/:id",
    endpoint(retrieveParams, (_, call) => {
      const record = store.checkouts.get(call.id);
      if (!record) throw noSuch("cs", call.id);
      return record.session;
    }),
  );

  api.post(
    "/v1/checkout/sessions/:id/expire",
    endpoint(retrieveParams, (_, call) => {
      const record = store.checkouts.get(call.id);
      if (!record) throw noSuch("cs", call.id);
      const { session } = record;
      if (session.status !== "open") {
        throw invalidRequest(
          `Only Checkout Sessions with a status in ["open"] can be expired. This session has ` +
            `status "${session.status}".`,
        );
      }
      session.status = "expired";
      store.emit("checkout.session.expired", session, { request: call.request });
      return session;
    }),
  );

  api.post(
    "/v1/billing_portal/sessions",
    endpoint(portalCreateParams, (params, call) => {
      customerParam(store, params.customer);
      const configuration = params.configuration
        ? store.portalConfigurations.get(params.configuration)
        : store.portalConfigurations.get("bpc_sim_default");
      if (!configuration) throw noSuch("bpc", params.configuration!, "configuration");
      if (!configuration.active) {
        throw invalidRequest(
          `The configuration ${configuration.id} is inactive and cannot be used.`,
          "configuration",
        );
      }
      const flow = params.flow_data ? portalFlow(params.flow_data) : null;
      if (flow && !configuration.features.payment_method_update.enabled) {
        throw invalidRequest(
          "The payment_method_update flow needs a configuration whose payment_method_update " +
            "feature is enabled.",
          "flow_data[type]",
        );
      }
      const session = portalSessionObject({
        url: (sessionId) => `${call.origin}/portal/${sessionId}`,
        customer: params.customer,
        returnUrl: params.return_url ?? configuration.default_return_url,
        configuration: configuration.id,
        flow,
        now: store.nowUnix(),
      });
      store.portalSessions.set(session.id, session);
      return session;
    }),
  );

  api.post(
    "/v1/billing_portal/configurations",
    endpoint(configurationCreateParams, (params) => {
      const now = store.nowUnix();
      const configuration = portalConfigurationObject({ isDefault: false, now });
      applyPortalConfigurationChanges(configuration, configurationChanges(params), now);
      store.portalConfigurations.set(configuration.id, configuration);
      return configuration;
    }),
  );

  api.get(
    "/v1/billing_portal/configurations",
    endpoint(configurationListParams, (params) => {
      const configurations = [...store.portalConfigurations.values()].filter((configuration) =>
        (params.active === undefined || configuration.active === params.active) &&
        (params.is_default === undefined || configuration.is_default === params.is_default)
      );
      return listPage(configurations, params, "/v1/billing_portal/configurations");
    }),
  );

  api.get(
    "/v1/billing_portal/configurations/:id",
    endpoint(retrieveParams, (_, call) => found(store.portalConfigurations, "bpc", call.id)),
  );

  api.post(
    "/v1/billing_portal/configurations/:id",
    endpoint(configurationUpdateParams, (params, call) => {
      const configuration = found(store.portalConfigurations, "bpc", call.id);
      if (params.active === false && configuration.is_default) {
        throw invalidRequest("The default configuration cannot be deactivated.", "active");
      }
      applyPortalConfigurationChanges(
        configuration,
        configurationChanges(params, configuration.metadata ?? {}),
        store.nowUnix(),
      );
      return configuration;
    }),
  );
}

function configurationChanges(params: ConfigurationParams, metadata: Record<string, string> = {}) {
  const headline = params.business_profile?.headline;
  return {
    active: params.active,
    features: params.features,
    headline: headline === undefined ? undefined : headline || null,
    defaultReturnUrl: params.default_return_url === undefined
      ? undefined
      : params.default_return_url || null,
    metadata: params.metadata === undefined ? undefined : applyMetadata(metadata, params.metadata),
  };
}

function portalFlow(data: z.output<typeof flowData>): PortalFlow {
  const after = data.after_completion;
  if (after?.type === "redirect" && !after.redirect) {
    throw invalidRequest(
      "Missing required param: flow_data[after_completion][redirect].",
      "flow_data[after_completion][redirect]",
      "parameter_missing",
    );
  }
  return {
    after_completion: {
      hosted_confirmation: after?.type === "hosted_confirmation"
        ? { custom_message: after.hosted_confirmation?.custom_message ?? null }
        : null,
      redirect: after?.type === "redirect" ? { return_url: after.redirect!.return_url } : null,
      type: after?.type ?? "portal_homepage",
    },
    customer_update: null,
    subscription_cancel: null,
    subscription_pause: null,
    subscription_update: null,
    subscription_update_confirm: null,
    type: data.type,
  };
}
