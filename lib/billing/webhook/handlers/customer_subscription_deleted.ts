/** `customer.subscription.deleted`: see `subscription_change.ts`. */
import { subscriptionChange } from "./subscription_change.ts";

export const customerSubscriptionDeleted = subscriptionChange("deleted");
