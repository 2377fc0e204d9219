/**
 * Billing periods on the calendar, as Stripe counts them: a monthly subscription anchored on the
 * 31st renews on the last day of shorter months and returns to the 31st when it can.
 */
import type { BillingInterval } from "./catalog.ts";

/** The end of the period that starts at `start`, for a cycle anchored at `anchor` (Unix seconds). */
export function periodEnd(start: number, anchor: number, interval: BillingInterval): number {
  const from = new Date(start * 1000);
  const anchorDate = new Date(anchor * 1000);
  const months = interval === "year" ? 12 : 1;
  const year = from.getUTCFullYear() + Math.floor((from.getUTCMonth() + months) / 12);
  const month = (from.getUTCMonth() + months) % 12;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return Date.UTC(
    year,
    month,
    Math.min(anchorDate.getUTCDate(), lastDay),
    anchorDate.getUTCHours(),
    anchorDate.getUTCMinutes(),
    anchorDate.getUTCSeconds(),
  ) / 1000;
}

export const DAY_SECONDS = 24 * 3600;

/** "15 March 2026": how pages and line descriptions write a day. */
export function day(timestamp: number): string {
  return new Date(timestamp * 1000).toLocaleDateString("en-GB", {
    day: "numeric",
    month: "long",
    year: "numeric",
    timeZone: "UTC",
  });
}
