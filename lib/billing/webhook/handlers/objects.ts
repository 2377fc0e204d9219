/** The parts of Stripe's objects the handlers read, validated before anything is written. */
import { z } from "zod";

const stripeId = z.string().min(1).max(255);
/** Expandable references arrive as an id or as the object itself. */
const reference = z.union([stripeId, z.object({ id: stripeId })]).transform((ref) =>
  typeof ref === "string" ? ref : ref.id
);
const unixSeconds = z.number().int().nonnegative();

/** A subscription item's price: the id, or the object with what it charges. */
const ItemPrice = z.union([
  stripeId.transform((id) => ({ id, unitAmount: null, currency: null })),
  z.object({
    id: stripeId,
    unit_amount: z.number().int().nonnegative().nullable().optional(),
    currency: z.string().min(3).max(3).optional(),
  }).transform((price) => ({
    id: price.id,
    unitAmount: price.unit_amount ?? null,
    currency: price.currency ?? null,
  })),
]);

export const SubscriptionObject = z.object({
  id: stripeId,
  customer: reference,
  status: z.string().min(1),
  created: unixSeconds.optional(),
  trial_end: unixSeconds.nullable().optional(),
  cancel_at_period_end: z.boolean().optional(),
  cancellation_details: z.object({ reason: z.string().nullable().optional() }).nullable()
    .optional(),
  items: z.object({
    data: z.array(z.object({
      id: stripeId.optional(),
      price: ItemPrice.nullable().optional(),
      quantity: z.number().int().nonnegative().nullable().optional(),
      current_period_end: unixSeconds.nullable().optional(),
    })),
  }).optional(),
});
export type SubscriptionObject = z.infer<typeof SubscriptionObject>;

export const CheckoutSessionObject = z.object({
  id: stripeId,
  client_reference_id: z.string().nullable().optional(),
  customer: reference.nullable().optional(),
  subscription: reference.nullable().optional(),
  payment_status: z.string().optional(),
});

export const InvoiceObject = z.object({
  // An upcoming invoice (`invoice.upcoming`) has no id yet.
  id: stripeId.nullable().optional(),
  customer: reference,
  amount_paid: z.number().int().nonnegative(),
  amount_due: z.number().int().nonnegative().optional(),
  currency: z.string().min(3).max(3).optional(),
  attempt_count: z.number().int().nonnegative().optional(),
  next_payment_attempt: unixSeconds.nullable().optional(),
  period_end: unixSeconds.nullable().optional(),
  billing_reason: z.string().nullable().optional(),
  parent: z.object({
    subscription_details: z.object({ subscription: reference.nullable().optional() }).nullable()
      .optional(),
  }).nullable().optional(),
});

export const CustomerObject = z.object({ id: stripeId });

/** A charge (`charge.refunded`): how much of it has been refunded. */
export const ChargeObject = z.object({
  id: stripeId,
  customer: reference.nullable().optional(),
  amount: z.number().int().nonnegative(),
  amount_refunded: z.number().int().nonnegative(),
});

/** A dispute (`charge.dispute.*`): the charge it is about, and where it stands. */
export const DisputeObject = z.object({
  id: stripeId,
  charge: reference,
  status: z.string().min(1).max(64),
});
