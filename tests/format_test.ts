/** Amounts and dates as the site writes them to people in the UK. */
import assert from "node:assert/strict";
import { formatAmount, formatDate } from "../lib/format.ts";

Deno.test("amounts always carry their minor unit, in the currency they were charged in", () => {
  assert.equal(formatAmount(700, "gbp"), "£7.00");
  assert.equal(formatAmount(7000, "GBP"), "£70.00");
  assert.equal(formatAmount(999, "eur"), "€9.99");
  assert.equal(formatAmount(1250, "usd"), "US$12.50");
  // The same currency again, once its formatter is kept: the same answer.
  assert.equal(formatAmount(700, "gbp"), "£7.00");
});

Deno.test("amounts in more currencies than are kept each still get their own code", () => {
  // Codes no country uses are well-formed all the same, and shown by their code: QAA, QAB, …
  const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  const codes = Array.from(
    { length: 40 },
    (_, i) => `Q${letters[Math.floor(i / 26)]}${letters[i % 26]}`,
  );
  for (const amount of [150, 250]) {
    for (const code of codes) {
      assert.equal(
        formatAmount(amount, code).replace(/\s/, " "),
        `${code} ${(amount / 100).toFixed(2)}`,
      );
    }
  }
  assert.equal(formatAmount(700, "gbp"), "£7.00");
});

Deno.test("dates read as the day, the month's name and the year, in London", () => {
  assert.equal(formatDate(new Date("2027-03-14T12:00:00Z")), "14 March 2027");
  // 23:30 UTC on 31 July is already 1 August in London (summer time).
  assert.equal(formatDate(new Date("2027-07-31T23:30:00Z")), "1 August 2027");
});
