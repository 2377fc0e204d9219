/**
 * The plans' prices as Stripe's Price objects say, so the pricing page never disagrees with
 * Checkout. Cached per process for a few minutes (prices are not a decision that instances must
 * agree on, so a per-process cache is safe); a failure is not cached, so the next request tries
 * again.
 */
import type Stripe from "stripe";
import type { Services } from "../services.ts";
import { ANNUAL_TRIAL_DAYS, type Cadence, CADENCES } from "./plans.ts";

export interface PlanPrice {
  cadence: Cadence;
  priceId: string;
  /** In the currency's minor unit (pence). */
  unitAmount: number;
  currency: string;
  /** "£7" or "£7.50". */
  display: string;
}

export type PlanPrices = Record<Cadence, PlanPrice>;

export const PRICE_CACHE_MS = 5 * 60_000;
const cache = new WeakMap<Stripe, { expires: number; prices: PlanPrices }>();

/** Both plans' prices, or null when payments are not configured or Stripe cannot be reached. */
export async function planPrices(
  services: Pick<Services, "config" | "stripe" | "log">,
): Promise<PlanPrices | null> {
  const { stripe, config } = services;
  const ids = { monthly: config.stripe.priceMonthly, annual: config.stripe.priceAnnual };
  if (!stripe || !ids.monthly || !ids.annual) return null;
  const cached = cache.get(stripe);
  if (cached && cached.expires > Date.now()) return cached.prices;
  try {
    const fetched = await Promise.all(
      CADENCES.map((cadence) => stripe.prices.retrieve(ids[cadence]!)),
    );
    const prices = Object.fromEntries(
      fetched.map((price, i) => [CADENCES[i], toPlanPrice(CADENCES[i], price)]),
    ) as PlanPrices;
    cache.set(stripe, { expires: Date.now() + PRICE_CACHE_MS, prices });
    return prices;
  } catch (error) {
    services.log.error("stripe.prices.fetch_failed", { error });
    return null;
  }
}

function toPlanPrice(cadence: Cadence, price: Stripe.Price): PlanPrice {
  const unitAmount = price.unit_amount ?? 0;
  return {
    cadence,
    priceId: price.id,
    unitAmount,
    currency: price.currency,
    display: formatMoney(unitAmount, price.currency),
  };
}

export function formatMoney(minorUnits: number, currency: string): string {
  const whole = minorUnits % 100 === 0;
  return new Intl.NumberFormat("en-GB", {
    style: "currency",
    currency: currency.toUpperCase(),
    minimumFractionDigits: whole ? 0 : 2,
    maximumFractionDigits: whole ? 0 : 2,
  }).format(minorUnits / 100);
}

/** A plan as the pricing page offers it. */
export interface PlanOffer {
  cadence: Cadence;
  /** "£70 a year". */
  price: string;
  /** One sentence: the trial or the start, and what the annual plan saves. */
  summary: string;
}

/**
 * The plans as the pricing page offers them, annual first: with its trial (only for someone who
 * has never had one) and what it saves against twelve months of the monthly price. Empty when
 * prices are not available.
 */
export function planOffers(prices: PlanPrices | null, options: { trial: boolean }): PlanOffer[] {
  if (!prices) return [];
  const { monthly, annual } = prices;
  const yearOfMonths = monthly.unitAmount * 12;
  const saving = monthly.currency === annual.currency && yearOfMonths > annual.unitAmount
    ? formatMoney(yearOfMonths - annual.unitAmount, annual.currency)
    : null;
  return [
    {
      cadence: "annual",
      price: `${annual.display} a year`,
      summary:
        (options.trial
          ? `${ANNUAL_TRIAL_DAYS}-day free trial, then ${annual.display} a year`
          : `${annual.display} a year, billed today: you have had your free trial`) +
        (saving ? ` — ${saving} less than paying monthly.` : "."),
    },
    {
      cadence: "monthly",
      price: `${monthly.display} a month`,
      summary: "Starts today and renews monthly. Cancel any time.",
    },
  ];
}
