/**
 * Every buyer gets their Stripe customer before their first Checkout, so every later event —
 * whatever order Stripe delivers them in — can be matched to the person by customer id.
 */
import type Stripe from "stripe";
import type { Sql } from "../db/client.ts";
import type { User } from "../auth/users.ts";
import { setStripeCustomer } from "./entitlement.ts";

export async function ensureStripeCustomer(
  db: Sql,
  stripe: Stripe,
  user: User,
): Promise<string> {
  if (user.stripeCustomerId) return user.stripeCustomerId;
  // The idempotency key makes two concurrent checkouts of one person mint one customer.
  const customer = await stripe.customers.create(
    { email: user.email, metadata: { user_id: String(user.id) } },
    { idempotencyKey: `read-markets-customer-for-user-${user.id}` },
  );
  return await setStripeCustomer(db, user.id, customer.id);
}
