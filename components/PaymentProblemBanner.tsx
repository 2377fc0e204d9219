import type { User } from "../lib/auth/users.ts";
import { pastDueAccessEnds } from "../lib/billing/entitlement.ts";
import { formatDate } from "../lib/format.ts";

/**
 * On every page while the person's subscription payment is failing (past due) or has given up
 * (unpaid): what happens, by when, and one button to Stripe's card form.
 */
export function PaymentProblemBanner(props: { user: User; graceDays: number }) {
  const status = props.user.stripeSubscriptionStatus;
  if (!props.user.stripeSubscriptionId || (status !== "past_due" && status !== "unpaid")) {
    return null;
  }
  const accessEnds = pastDueAccessEnds(props.user, props.graceDays);
  return (
    <div class="banner banner-problem" role="alert" data-testid="payment-problem">
      <div class="container banner-row">
        <span>
          {status === "past_due"
            ? `Your last payment failed — update your card to keep access${
              accessEnds ? ` (access ends on ${formatDate(accessEnds)} if it isn't paid)` : ""
            }.`
            : "Your subscription is unpaid, so paid access has stopped — update your card to restore it."}
        </span>
        {
          /* A link, not a form: the site's CSP lets forms post only to itself, and this goes on
            to Stripe's portal. */
        }
        <a class="btn btn-small" href="/billing/card">Update card</a>
      </div>
    </div>
  );
}
