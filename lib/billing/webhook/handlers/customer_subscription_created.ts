/** `customer.subscription.created`: see `subscription_change.ts`. */
import { subscriptionChange } from "./subscription_change.ts";

export const customerSubscriptionCreated = subscriptionChange("created");
