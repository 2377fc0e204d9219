/**
 * The plans' prices as Stripe's Price objects say, so the pricing page never disagrees with
 * Checkout. Cached per process (prices are not a decision that instances must agree on, so a
 * per-process cache is safe), and built so that a Stripe outage costs pages little: one short,
 * unretried fetch at a time, its failure remembered for a while, and the last good prices kept
 * for a day meanwhile.
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

/** Prices this fresh are served without asking Stripe. */
export const PRICE_CACHE_MS = 5 * 60_000;
/**
 * How long a page may wait on Stripe for prices: one attempt, no retry, far inside the ~21 s a
 * checkout call may take, because a visitor is waiting for the page.
 */
export const PRICE_FETCH_TIMEOUT_MS = 3_000;
/** After a failed fetch, pages do not ask Stripe again for this long. */
export const PRICE_FAILURE_CACHE_MS = 30_000;
/** While Stripe cannot be reached, the last good prices are shown up to this old; then none. */
export const STALE_PRICES_MAX_AGE_MS = 24 * 3600_000;

interface PriceCache {
  lastGood: { prices: PlanPrices; fetchedAt: number } | null;
  lastFailureAt: number | null;
  /** The fetch under way, which every request arriving meanwhile waits on rather than repeating. */
  inFlight: Promise<void> | null;
}

const caches = new WeakMap<Stripe, PriceCache>();

type PriceServices = Pick<Services, "config" | "stripe" | "log" | "now">;

/** Both plans' prices, or null when payments are not configured or Stripe cannot be reached. */
export async function planPrices(services: PriceServices): Promise<PlanPrices | null> {
  const { stripe, config } = services;
  if (!stripe || !config.stripe.priceMonthly || !config.stripe.priceAnnual) return null;
  const cache = cacheFor(stripe);
  const now = services.now().getTime();
  if (cache.lastGood && now - cache.lastGood.fetchedAt < PRICE_CACHE_MS) {
    return cache.lastGood.prices;
  }
  const failedRecently = cache.lastFailureAt !== null &&
    now - cache.lastFailureAt < PRICE_FAILURE_CACHE_MS;
  if (!failedRecently) {
    cache.inFlight ??= refresh(services, stripe, cache).finally(() => cache.inFlight = null);
    await cache.inFlight;
  }
  const servedAt = services.now().getTime();
  return cache.lastGood && showable(cache.lastGood, servedAt) ? cache.lastGood.prices : null;
}

function cacheFor(stripe: Stripe): PriceCache {
  let cache = caches.get(stripe);
  if (!cache) caches.set(stripe, cache = { lastGood: null, lastFailureAt: null, inFlight: null });
  return cache;
}

/** Fetch both prices into the cache; a failure is recorded there, never thrown. */
async function refresh(services: PriceServices, stripe: Stripe, cache: PriceCache) {
  const ids = {
    monthly: services.config.stripe.priceMonthly!,
    annual: services.config.stripe.priceAnnual!,
  };
  try {
    const fetched = await Promise.all(
      CADENCES.map((cadence) =>
        stripe.prices.retrieve(ids[cadence], {}, {
          timeout: PRICE_FETCH_TIMEOUT_MS,
          maxNetworkRetries: 0,
        })
      ),
    );
    const prices = Object.fromEntries(
      fetched.map((price, i) => [CADENCES[i], toPlanPrice(CADENCES[i], price)]),
    ) as PlanPrices;
    cache.lastGood = { prices, fetchedAt: services.now().getTime() };
    cache.lastFailureAt = null;
  } catch (error) {
    const failedAt = services.now().getTime();
    cache.lastFailureAt = failedAt;
    services.log.error("stripe.prices.fetch_failed", { error });
    if (cache.lastGood && showable(cache.lastGood, failedAt)) {
      services.log.warn("stripe.prices.stale", {
        age_seconds: Math.round((failedAt - cache.lastGood.fetchedAt) / 1000),
      });
    }
  }
}

/** Whether prices fetched at `fetchedAt` may still be shown. */
function showable(good: { fetchedAt: number }, now: number): boolean {
  return now - good.fetchedAt <= STALE_PRICES_MAX_AGE_MS;
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

/** The prices as a page shows them, as a string that changes only when they do. */
export async function pricesVersion(services: PriceServices): Promise<string> {
  const prices = await planPrices(services);
  if (!prices) return "unavailable";
  return CADENCES.map((cadence) => {
    const { priceId, unitAmount, currency } = prices[cadence];
    return `${priceId}:${unitAmount}:${currency}`;
  }).join("|");
}
