/** `customer.subscription.updated`: see `subscription_change.ts`. */
import { subscriptionChange } from "./subscription_change.ts";

export const customerSubscriptionUpdated = subscriptionChange("updated");
