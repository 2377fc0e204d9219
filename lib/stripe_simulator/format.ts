/** Amounts as people read them, for pages and for Stripe's error messages that quote them. */

/** "£7.00" */
export function money(amount: number, currency: string): string {
  return new Intl.NumberFormat("en-GB", { style: "currency", currency: currency.toUpperCase() })
    .format(amount / 100);
}
