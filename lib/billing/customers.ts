/**
 * Every buyer gets their Stripe customer before their first Checkout, so every later event —
 * whatever order Stripe delivers them in — can be matched to the person by customer id. A
 * customer deleted in Stripe is forgotten and replaced, never reused.
 */
import Stripe from "stripe";
import type { Sql } from "../db/client.ts";
import { withTransaction } from "../db/client.ts";
import type { User } from "../auth/users.ts";
import { DomainError } from "../domain_error.ts";
import { forgetStripeCustomer, lockPerson, setStripeCustomer } from "./entitlement.ts";
import {
  lockStripeCustomers,
  recordErasedCustomers,
  redactStripeEvents,
} from "./erased_customers.ts";

export async function ensureStripeCustomer(
  db: Sql,
  stripe: Stripe,
  user: User,
  now: Date,
): Promise<string> {
  if (user.stripeCustomerId) return user.stripeCustomerId;
  // The idempotency key makes two concurrent checkouts of one person mint one customer; the
  // generation makes the customer that replaces a deleted one a new one.
  const customer = await stripe.customers.create(
    { email: user.email, metadata: { user_id: String(user.id) } },
    {
      idempotencyKey: `read-markets-customer-for-user-${user.id}-${user.stripeCustomerGeneration}`,
    },
  );
  const stored = await setStripeCustomer(db, user.id, customer.id);
  if (stored === null) await closeOrphanCustomer(db, stripe, user, customer.id, now);
  return stored!;
}

/**
 * The person deleted their account while a checkout was making their customer: remember the
 * customer as erased (so its events are stored redacted, and any stored already are), delete it
 * in Stripe, and refuse the checkout.
 */
async function closeOrphanCustomer(
  db: Sql,
  stripe: Stripe,
  user: User,
  customerId: string,
  now: Date,
): Promise<never> {
  await withTransaction(db, async (tx) => {
    await lockStripeCustomers(tx, [customerId]);
    await recordErasedCustomers(tx, user.id, [customerId], now);
    await redactStripeEvents(tx, { email: user.email, customerIds: [customerId] }, now);
  });
  try {
    await stripe.customers.del(customerId);
  } catch (error) {
    if (!isMissingCustomer(error, customerId)) throw error;
  }
  throw new DomainError("not_found", "account_deleted", "This account has been deleted");
}

/** Whether Stripe refused because it does not know this customer (deleted there). */
export function isMissingCustomer(error: unknown, customerId: string): boolean {
  return error instanceof Stripe.errors.StripeInvalidRequestError &&
    error.code === "resource_missing" &&
    (error.param === "customer" || error.message.includes(customerId));
}

/**
 * The stored customer is gone in Stripe: forget it (as `customer.deleted` would) and return the
 * person as they are now, with no customer and the next generation.
 */
export async function forgetMissingCustomer(db: Sql, user: User, customerId: string) {
  return await withTransaction(db, async (tx) => {
    await forgetStripeCustomer(tx, user.id, customerId);
    return (await lockPerson(tx, { userId: user.id }))!;
  });
}
