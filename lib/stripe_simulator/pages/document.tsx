/**
 * The shell and formatting shared by the simulator's pages (checkout, portal, dashboard):
 * server-rendered HTML with plain forms, usable without JavaScript and by keyboard.
 */
import type { ComponentChildren } from "preact";
import { renderToString } from "preact-render-to-string";
import { formatAmount } from "../../format.ts";
import type { Price } from "../objects.ts";
import { DEFAULT_TEST_CARD, spacedNumber, TEST_CARDS } from "../cards.ts";

const STYLES = `
  body { margin: 0; font: 16px/1.5 system-ui, sans-serif; color: #1a1f36; background: #f6f9fc; }
  main { max-width: 46rem; margin: 2rem auto; padding: 0 1rem; }
  .banner { background: #fff4d6; border: 1px solid #e8c45a; border-radius: 6px; padding: .5rem .75rem; }
  .card { background: #fff; border: 1px solid #e3e8ee; border-radius: 8px; padding: 1rem 1.25rem; margin: 1rem 0; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
  dt { font-weight: 600; }
  dd { margin: 0; }
  form { display: inline-block; margin: .25rem .5rem .25rem 0; }
  form.stacked { display: block; }
  label { display: block; font-weight: 600; margin-top: .5rem; }
  fieldset label { display: inline; font-weight: 400; }
  fieldset { border: 1px solid #e3e8ee; border-radius: 6px; margin: .5rem 0; }
  input[type=radio] { min-width: 0; }
  input, select { font: inherit; padding: .4rem; min-width: 16rem; }
  button { font: inherit; padding: .45rem 1rem; border-radius: 6px; border: 1px solid #635bff;
    background: #635bff; color: #fff; cursor: pointer; }
  button.secondary { background: #fff; color: #3c4257; border-color: #aab3c0; }
  button.danger { background: #fff; color: #a41c4e; border-color: #a41c4e; }
  :focus-visible { outline: 3px solid #f0b429; outline-offset: 2px; }
  [role=alert] { background: #fde8e8; border: 1px solid #9b1c1c; border-radius: 6px; padding: .5rem .75rem; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #e3e8ee; vertical-align: top; }
  code { font-size: .9em; }
`;

export function renderDocument(title: string, body: ComponentChildren): string {
  return "<!DOCTYPE html>" + renderToString(
    <html lang="en-GB">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex" />
        {/* No icon to fetch: the simulator serves no static files. */}
        <link rel="icon" href="data:," />
        <title>{title}</title>
        <style>{STYLES}</style>
      </head>
      <body>
        <main>
          <p class="banner">
            Stripe simulator: a stand-in for Stripe in development and tests. No real payment is
            taken.
          </p>
          {body}
        </main>
      </body>
    </html>,
  );
}

export function htmlResponse(html: string, status = 200): Response {
  return new Response(html, {
    status,
    headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" },
  });
}

/** "£7.00 per month" */
export function priceLabel(price: Price): string {
  const amount = formatAmount(price.unit_amount ?? 0, price.currency);
  return price.recurring ? `${amount} per ${price.recurring.interval}` : amount;
}

export { day } from "../periods.ts";

/** The test cards as radio buttons named `card`, the default one chosen. */
export function TestCardChoice({ legend }: { legend: string }) {
  return (
    <fieldset>
      <legend>{legend}</legend>
      {TEST_CARDS.map((card) => (
        <p key={card.number}>
          <input
            id={`card-${card.number}`}
            name="card"
            type="radio"
            value={card.number}
            checked={card.number === DEFAULT_TEST_CARD}
          />
          <label for={`card-${card.number}`}>
            {`${card.label} ${spacedNumber(card.number)}`}
          </label>
        </p>
      ))}
    </fieldset>
  );
}
