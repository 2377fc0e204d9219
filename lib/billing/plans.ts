/** The two plans and what the server needs to know about each. */
import type { Config } from "../config.ts";
import { DomainError } from "../domain_error.ts";

export const CADENCES = ["monthly", "annual"] as const;
export type Cadence = typeof CADENCES[number];

/** Annual plans start with a free trial; monthly plans bill at once (and need the waiver). */
export const ANNUAL_TRIAL_DAYS = 14;

/** The Stripe price id for a cadence, or a `not_configured` error naming the missing setting. */
export function priceFor(config: Config, cadence: Cadence): string {
  const [price, variable] = cadence === "monthly"
    ? [config.stripe.priceMonthly, "STRIPE_PRICE_MONTHLY"]
    : [config.stripe.priceAnnual, "STRIPE_PRICE_ANNUAL"];
  if (!price) {
    throw new DomainError(
      "not_configured",
      "price_not_configured",
      `Payments are not set up: ${variable} is not configured`,
    );
  }
  return price;
}

/** The plan a Stripe price is, or null for a price this app does not sell. */
export function cadenceOf(config: Pick<Config, "stripe">, priceId: string | null): Cadence | null {
  if (!priceId) return null;
  if (priceId === config.stripe.priceMonthly) return "monthly";
  if (priceId === config.stripe.priceAnnual) return "annual";
  return null;
}
