/**
 * The test payment details the hosted pages offer, and their fingerprints. Stripe gives one card
 * number the same fingerprint wherever it is used, so an app can tell a returning card from a new
 * one; here the fingerprint is derived from the number alone, so it is the same in every
 * simulator and every run.
 */

export type CardBrand = "visa" | "mastercard" | "amex";

export interface TestCard {
  number: string;
  brand: CardBrand;
  label: string;
}

export const TEST_CARDS: readonly TestCard[] = [
  { number: "4242424242424242", brand: "visa", label: "Visa" },
  { number: "5555555555554444", brand: "mastercard", label: "Mastercard" },
  { number: "378282246310005", brand: "amex", label: "American Express" },
];

export const DEFAULT_TEST_CARD = TEST_CARDS[0].number;

/** Stripe's UK test bank account for Bacs Direct Debit, the bank debit the checkout offers. */
export const TEST_BANK_ACCOUNT = { sortCode: "108800", accountNumber: "00012345" };

export function testCard(number: string): TestCard | undefined {
  return TEST_CARDS.find((card) => card.number === number.replace(/\s+/g, ""));
}

/** The card a hosted page's form chose: the default when none was, undefined for an unknown one. */
export function chosenTestCard(form: Record<string, unknown>): TestCard | undefined {
  return testCard(typeof form.card === "string" ? form.card : DEFAULT_TEST_CARD);
}

/** "4242 4242 4242 4242" */
export function spacedNumber(number: string): string {
  return number.length === 15
    ? `${number.slice(0, 4)} ${number.slice(4, 10)} ${number.slice(10)}`
    : number.replace(/(\d{4})(?=\d)/g, "$1 ");
}

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/**
 * Sixteen characters, like Stripe's: FNV-1a (64-bit) of the payment details, written in base 62.
 * Not a secret, only stable: equal details give equal fingerprints, different ones differ.
 */
export function fingerprint(details: string): string {
  let hash = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(details)) {
    hash = BigInt.asUintN(64, (hash ^ BigInt(byte)) * 0x100000001b3n);
  }
  let text = "";
  for (let i = 0; i < 16; i++) {
    text += ALPHABET[Number(hash % 62n)];
    hash = hash / 62n + BigInt(i + 1) * 0x9e3779b97f4a7c15n;
    hash = BigInt.asUintN(64, hash);
  }
  return text;
}
