/**
 * Deleting an account at the person's request (UK GDPR art. 17, the right to erasure).
 *
 * First Stripe: the live subscription is cancelled at once and the Stripe customer deleted (one
 * already gone counts as done). No transaction spans those calls, and if Stripe fails nothing has
 * changed here, so the person can simply try again.
 *
 * Then one transaction ends every session and removes the personal data, keeping only what the
 * law or the ledger needs, pseudonymised:
 * - the `users` row, as a tombstone: the address becomes `deleted-<id>` (never an address, so no
 *   sign-in can reach it and the address is free for a new account), a fresh referral code (the
 *   old link stops working), `credit_until` unchanged (it is what the credit ledger adds up to);
 * - consents without IP address and user agent: which waiver text was accepted when, for which
 *   checkout — the evidence for that purchase;
 * - the credit ledger, referrals (pseudonymous; friends they invited no longer point at them,
 *   and still get their own credit), subscriptions (plan, status, dates and amounts: the record
 *   of what was sold) and the notices' kinds and times;
 * - Stripe's events with their payloads redacted, and the Stripe customer ids, so that events
 *   arriving later are stored redacted too (`lib/billing/erased_customers.ts`).
 * Deleted: sessions, sign-in links and rate-limit counts for the address, payment card
 * fingerprints, notices not yet sent.
 */
import type { Services } from "../services.ts";
import type { Tx } from "../db/client.ts";
import { withTransaction } from "../db/client.ts";
import { DomainError } from "../domain_error.ts";
import { newReferralCode, normaliseEmail, type User } from "../auth/users.ts";
import { forgetStripeCustomer, lockPerson, refreshPerson } from "../billing/entitlement.ts";
import { ENDED_STATUSES, endLiveSubscriptions } from "../billing/subscriptions.ts";
import { isMissingCustomer } from "../billing/customers.ts";
import { callStripe, requireStripe } from "../billing/stripe_calls.ts";
import {
  lockStripeCustomers,
  recordErasedCustomers,
  redactStripeEvents,
  stripeCustomersOf,
} from "../billing/erased_customers.ts";
import { SEND_NOTICE_JOB } from "../notices/send.ts";

type EraseServices = Pick<Services, "db" | "stripe" | "log" | "now">;

/** What a deleted person's address becomes: unique per row, and not an address at all. */
export function erasedEmail(userId: number): string {
  return `deleted-${userId}`;
}

/**
 * Delete the person's account. `confirmation` is what they typed to confirm: their own email
 * address (any case); anything else is refused and changes nothing.
 */
export async function eraseAccount(
  services: EraseServices,
  user: User,
  confirmation: string,
): Promise<void> {
  if (normaliseEmail(confirmation) !== user.email) {
    throw new DomainError(
      "invalid",
      "confirmation_mismatch",
      "That is not your email address. Type it exactly as shown to delete your account.",
    );
  }
  const customerIds = await stripeCustomersOf(services.db, user);
  if (user.stripeCustomerId) await closeStripeCustomer(services, user.id, user.stripeCustomerId);
  const erased = await withTransaction(
    services.db,
    (tx) => eraseRecords(tx, user.id, customerIds, services.now()),
  );
  if (erased) services.log.info("account.erased", { user_id: user.id });
}

/** Cancel the customer's live subscriptions at once, then delete the customer, in Stripe. */
async function closeStripeCustomer(
  services: EraseServices,
  userId: number,
  customerId: string,
): Promise<void> {
  const stripe = requireStripe(services);
  await callStripe(services.log, "stripe.erase_failed", userId, async () => {
    try {
      const subscriptions = await stripe.subscriptions.list({ customer: customerId, limit: 100 });
      for (const subscription of subscriptions.data) {
        if (ENDED_STATUSES.has(subscription.status)) continue;
        await stripe.subscriptions.cancel(subscription.id);
      }
      await stripe.customers.del(customerId);
    } catch (error) {
      // Deleted already (an earlier attempt, or in Stripe's dashboard): done.
      if (!isMissingCustomer(error, customerId)) throw error;
    }
  });
}

/**
 * Everything local, in one transaction; false when the person was already erased. Locks are
 * taken in the order conversions and webhook deliveries take them: the referrals the person made,
 * their Stripe customers, then the person.
 */
async function eraseRecords(
  tx: Tx,
  userId: number,
  customerIds: string[],
  now: Date,
): Promise<boolean> {
  await tx`select id from referrals where referrer_id = ${userId} order by id for update`;
  await lockStripeCustomers(tx, customerIds);
  const person = await lockPerson(tx, { userId });
  if (!person || person.deletedAt) return false;
  if (person.stripeCustomerId && !customerIds.includes(person.stripeCustomerId)) {
    // A checkout gave the person a customer since Stripe was asked: it has not been closed.
    throw new DomainError(
      "conflict",
      "account_changed",
      "Your account changed while it was being deleted. Please try again.",
    );
  }
  const { email } = person;
  const placeholder = erasedEmail(userId);

  await recordErasedCustomers(tx, userId, customerIds, now);
  if (person.stripeCustomerId) await forgetStripeCustomer(tx, userId, person.stripeCustomerId);
  await endLiveSubscriptions(tx, userId, now);
  await refreshPerson(tx, userId);
  await tx`
    update users set email = ${placeholder}, referral_code = ${newReferralCode()},
      deleted_at = ${now}
    where id = ${userId}`;

  await tx`delete from sessions where user_id = ${userId}`;
  await tx`delete from login_tokens where email = ${email}`;
  await tx`delete from rate_limit_hits where strpos(key, ${email}) > 0`;
  await tx`delete from payment_fingerprints where user_id = ${userId}`;
  await tx`update consents set ip = null, user_agent = null where user_id = ${userId}`;
  await tx`
    update notices set to_address = ${placeholder}
    where user_id = ${userId} or to_address = ${email}`;
  await tx`
    delete from jobs
    where kind = ${SEND_NOTICE_JOB} and done_at is null and payload ->> 'userId' = ${
    String(userId)
  }`;
  // The friends they invited keep their referrals and their own credit; a referral with no
  // referrer rewards only the friend.
  await tx`update referrals set referrer_id = null where referrer_id = ${userId}`;
  await redactStripeEvents(tx, { email, customerIds }, now);
  return true;
}
