/** `/v1/charges`, `/v1/payment_methods`, `/v1/refunds` and `/v1/disputes`. */
import type { Hono } from "hono";
import { z } from "zod";
import { type EndpointFactory, found, retrieveParams } from "./api_support.ts";
import { invalidRequest, noSuch } from "./errors.ts";
import type { Charge } from "./objects.ts";
import { expandParam, formInteger, formMetadata, formString } from "./params.ts";
import { refundCharge } from "./payments.ts";
import type { Store } from "./store.ts";

const refundCreateParams = z.strictObject({
  charge: formString().optional(),
  payment_intent: formString().optional(),
  amount: formInteger({ min: 1, max: 99_999_999 }).optional(),
  reason: z.enum(["duplicate", "fraudulent", "requested_by_customer"]).optional(),
  metadata: formMetadata.optional(),
  expand: expandParam,
});

export function apiPaymentRoutes(api: Hono, endpoint: EndpointFactory, store: Store): void {
  api.get(
    "/v1/charges/:id",
    endpoint(retrieveParams, (_, call) => found(store.charges, "ch", call.id)),
  );

  api.get(
    "/v1/payment_methods/:id",
    endpoint(retrieveParams, (_, call) => found(store.paymentMethods, "pm", call.id)),
  );

  api.post(
    "/v1/refunds",
    endpoint(refundCreateParams, (params, call) => {
      if (!params.charge && !params.payment_intent) {
        throw invalidRequest(
          "One of the following params should be provided for this request: payment_intent " +
            "or charge.",
        );
      }
      let charge: Charge | undefined;
      if (params.charge) {
        charge = store.charges.get(params.charge);
        if (!charge) throw noSuch("ch", params.charge, "charge");
      }
      if (params.payment_intent) {
        const paid = [...store.charges.values()].find((candidate) =>
          candidate.payment_intent === params.payment_intent
        );
        if (!paid) throw noSuch("pi", params.payment_intent, "payment_intent");
        if (charge && charge.id !== paid.id) {
          throw invalidRequest(
            `Charge ${charge.id} was not made by PaymentIntent ${params.payment_intent}.`,
            "charge",
          );
        }
        charge = paid;
      }
      return refundCharge(store, charge!, {
        amount: params.amount,
        reason: params.reason,
        metadata: params.metadata === "" ? {} : params.metadata,
      }, call.request);
    }),
  );

  api.get(
    "/v1/refunds/:id",
    endpoint(retrieveParams, (_, call) => found(store.refunds, "re", call.id)),
  );

  api.get(
    "/v1/disputes/:id",
    endpoint(retrieveParams, (_, call) => found(store.disputes, "dp", call.id)),
  );
}
