/** The parts of Stripe's objects the handlers read, validated before anything is written. */
import { z } from "zod";

const stripeId = z.string().min(1).max(255);
/** Expandable references arrive as an id or as the object itself. */
const reference = z.union([stripeId, z.object({ id: stripeId })]).transform((ref) =>
  typeof ref === "string" ? ref : ref.id
);
const unixSeconds = z.number().int().nonnegative();

export const SubscriptionObject = z.object({
  id: stripeId,
  customer: reference,
  status: z.string().min(1),
  trial_end: unixSeconds.nullable().optional(),
  cancel_at_period_end: z.boolean().optional(),
  items: z.object({
    data: z.array(z.object({ price: reference.nullable().optional() })),
  }).optional(),
});

export const CheckoutSessionObject = z.object({
  id: stripeId,
  client_reference_id: z.string().nullable().optional(),
  customer: reference.nullable().optional(),
  subscription: reference.nullable().optional(),
});

export const InvoiceObject = z.object({
  id: stripeId,
  customer: reference,
  amount_paid: z.number().int().nonnegative(),
  billing_reason: z.string().nullable().optional(),
  parent: z.object({
    subscription_details: z.object({ subscription: reference.nullable().optional() }).nullable()
      .optional(),
  }).nullable().optional(),
});
