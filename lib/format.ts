/** How the site writes dates and amounts to people: "14 March 2027", "£70.00" (UK English). */

const ukDate = new Intl.DateTimeFormat("en-GB", {
  day: "numeric",
  month: "long",
  year: "numeric",
  timeZone: "Europe/London",
});

export function formatDate(date: Date): string {
  return ukDate.format(date);
}

/** An amount in the currency's minor unit (pence), always with its pence: "£7.00". */
export function formatAmount(minorUnits: number, currency: string): string {
  return new Intl.NumberFormat("en-GB", { style: "currency", currency: currency.toUpperCase() })
    .format(minorUnits / 100);
}
