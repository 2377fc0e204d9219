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
  return currencyFormat(currency.toUpperCase()).format(minorUnits / 100);
}

/**
 * One formatter per currency, made once: making one costs some fifty times what formatting with
 * it does, and a page or notice may show several amounts. The few currencies a shop bills in are
 * kept; past a bound, formatters are made afresh rather than kept for ever.
 */
const currencyFormats = new Map<string, Intl.NumberFormat>();
const KEPT_CURRENCIES = 32;

function currencyFormat(currency: string): Intl.NumberFormat {
  let format = currencyFormats.get(currency);
  if (!format) {
    format = new Intl.NumberFormat("en-GB", { style: "currency", currency });
    if (currencyFormats.size < KEPT_CURRENCIES) currencyFormats.set(currency, format);
  }
  return format;
}
