/** Calendar arithmetic the app counts in days. */

export const DAY_MS = 86_400_000;

/** Whole days from `now` until `moment`, rounded up; 0 when it has passed or is unset. */
export function wholeDaysUntil(moment: Date | null, now: Date): number {
  if (!moment || moment <= now) return 0;
  return Math.ceil((moment.getTime() - now.getTime()) / DAY_MS);
}
