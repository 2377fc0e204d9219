/**
 * One handler per Stripe event type, each in its own module named after it, registered here.
 * A handler's `apply` runs inside the webhook's transaction; what it needs from Stripe its
 * `prepare` fetches before (`context.ts`). What it reads from the event is validated first
 * (`objects.ts`), so a malformed event is a handler error, never a half-applied change.
 */
import type { EventHandler } from "./context.ts";
import { checkoutSessionCompleted } from "./checkout_session_completed.ts";
import { customerSubscriptionCreated } from "./customer_subscription_created.ts";
import { customerSubscriptionUpdated } from "./customer_subscription_updated.ts";
import { customerSubscriptionDeleted } from "./customer_subscription_deleted.ts";
import { invoicePaid } from "./invoice_paid.ts";
import { customerDeleted } from "./customer_deleted.ts";
import { customerSubscriptionTrialWillEnd } from "./customer_subscription_trial_will_end.ts";
import { invoiceUpcoming } from "./invoice_upcoming.ts";
import { invoicePaymentFailed } from "./invoice_payment_failed.ts";
import { chargeRefunded } from "./charge_refunded.ts";
import { chargeDispute } from "./charge_dispute.ts";

/**
 * A Map, not an object literal: the event type comes from outside, and a plain object would
 * "find" handlers such as `constructor` or `toString` on its prototype.
 */
export const EVENT_HANDLERS: ReadonlyMap<string, EventHandler> = new Map([
  ["checkout.session.completed", checkoutSessionCompleted],
  ["customer.subscription.created", customerSubscriptionCreated],
  ["customer.subscription.updated", customerSubscriptionUpdated],
  ["customer.subscription.deleted", customerSubscriptionDeleted],
  ["invoice.paid", invoicePaid],
  ["customer.subscription.trial_will_end", customerSubscriptionTrialWillEnd],
  ["customer.deleted", customerDeleted],
  ["invoice.upcoming", invoiceUpcoming],
  ["invoice.payment_failed", invoicePaymentFailed],
  ["charge.refunded", chargeRefunded],
  ["charge.dispute.created", chargeDispute],
  ["charge.dispute.updated", chargeDispute],
  ["charge.dispute.closed", chargeDispute],
]);
