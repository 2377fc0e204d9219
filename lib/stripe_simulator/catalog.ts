/**
 * The prices every simulator starts with. Their ids are fixed so the app can use them as its
 * defaults for STRIPE_PRICE_MONTHLY / STRIPE_PRICE_ANNUAL when it runs on the simulator.
 */
import { brand } from "../brand.ts";

export const SIMULATED_PRICE_MONTHLY = "price_sim_monthly";
export const SIMULATED_PRICE_ANNUAL = "price_sim_annual";
export const SIMULATED_PRODUCT = "prod_sim_subscription";
export const SIMULATED_PRODUCT_NAME = brand.name;

export type BillingInterval = "month" | "year";

export interface CatalogPrice {
  id: string;
  nickname: string;
  unitAmount: number;
  currency: string;
  interval: BillingInterval;
}

export const SEEDED_PRICES: readonly CatalogPrice[] = [
  {
    id: SIMULATED_PRICE_MONTHLY,
    nickname: "Monthly",
    unitAmount: 700,
    currency: "gbp",
    interval: "month",
  },
  {
    id: SIMULATED_PRICE_ANNUAL,
    nickname: "Annual",
    unitAmount: 7000,
    currency: "gbp",
    interval: "year",
  },
];
