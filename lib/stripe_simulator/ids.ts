/** Object ids in Stripe's style: a type prefix and a random alphanumeric tail. */

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

export function randomToken(length: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  // 256 % 62 skews a few characters slightly; ids need uniqueness, not uniformity.
  return Array.from(bytes, (b) => ALPHABET[b % ALPHABET.length]).join("");
}

export type IdPrefix =
  | "cus"
  | "cs_test"
  | "bps"
  | "sub"
  | "si"
  | "in"
  | "il"
  | "li"
  | "ch"
  | "evt"
  | "req"
  | "pm"
  | "inpay"
  | "re"
  | "dp"
  | "bpc"
  | "upcoming_in";

export function newId(prefix: IdPrefix): string {
  return `${prefix}_${randomToken(prefix === "cs_test" ? 58 : 24)}`;
}
