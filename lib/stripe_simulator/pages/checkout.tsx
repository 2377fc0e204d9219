/**
 * The hosted checkout page a session's `url` points to: what is being bought, then "Pay" with a
 * test card (creates the subscription and redirects to `success_url`), "Bank debit (settles
 * later)", or "Cancel" (back to `cancel_url`).
 */
import { Hono } from "hono";
import { completeCheckout } from "../billing.ts";
import { chosenTestCard } from "../cards.ts";
import { catchUp } from "../clock.ts";
import { SimulatorError } from "../errors.ts";
import { SIMULATED_PRODUCT_NAME } from "../catalog.ts";
import type { CheckoutSession } from "../objects.ts";
import type { PaymentChoice } from "../payment_objects.ts";
import { isEmailAddress } from "../params.ts";
import { DAY_SECONDS } from "../periods.ts";
import type { CheckoutRecord, Store } from "../store.ts";
import { day, htmlResponse, priceLabel, renderDocument, TestCardChoice } from "./document.tsx";
import { formatAmount } from "../../format.ts";

export function checkoutRoutes(store: Store): Hono {
  const app = new Hono();

  app.get("/checkout/:id", (c) => {
    catchUp(store);
    const record = store.checkouts.get(c.req.param("id"));
    if (!record) return notFound();
    return htmlResponse(checkoutPage(record, store.nowUnix()));
  });

  app.post("/checkout/:id/pay", async (c) => {
    catchUp(store);
    const record = store.checkouts.get(c.req.param("id"));
    if (!record) return notFound();
    const form = await c.req.parseBody();
    const email = typeof form.email === "string" ? form.email.trim() : "";
    if (email && !isEmailAddress(email)) {
      return htmlResponse(
        checkoutPage(record, store.nowUnix(), "Enter a valid email address."),
        400,
      );
    }
    const choice = paymentChoice(form);
    if (!choice) {
      return htmlResponse(
        checkoutPage(record, store.nowUnix(), "Choose one of the test cards."),
        400,
      );
    }
    try {
      const session = completeCheckout(store, record, email || null, choice);
      return c.redirect(successUrl(session), 303);
    } catch (error) {
      if (!(error instanceof SimulatorError)) throw error;
      return htmlResponse(checkoutPage(record, store.nowUnix(), error.message), 409);
    }
  });

  // Leaving does not change the session: it stays open until it expires, as at Stripe.
  app.post("/checkout/:id/cancel", (c) => {
    const record = store.checkouts.get(c.req.param("id"));
    if (!record?.session.cancel_url) return notFound();
    return c.redirect(record.session.cancel_url, 303);
  });

  return app;
}

/** The card chosen (4242 4242 4242 4242 unless another was), or the bank debit. */
function paymentChoice(form: Record<string, unknown>): PaymentChoice | null {
  if (form.method === "bacs_debit") return { type: "bacs_debit" };
  const card = chosenTestCard(form);
  return card ? { type: "card", card } : null;
}

/** Stripe fills in `{CHECKOUT_SESSION_ID}` so the site can look the session up on return. */
function successUrl(session: CheckoutSession): string {
  return session.success_url!.replaceAll("{CHECKOUT_SESSION_ID}", session.id);
}

function notFound(): Response {
  return htmlResponse(
    renderDocument("Checkout not found", <h1>This checkout session does not exist.</h1>),
    404,
  );
}

function checkoutPage(record: CheckoutRecord, now: number, error?: string): string {
  const { session, lineItem, trialPeriodDays } = record;
  const price = lineItem.price!;
  const title = `Subscribe to ${SIMULATED_PRODUCT_NAME}`;
  const email = session.customer_details?.email ?? session.customer_email;
  const open = session.status === "open" && session.expires_at > now;
  return renderDocument(
    title,
    <>
      <h1>{title}</h1>
      {error && <p role="alert">{error}</p>}
      <section class="card" aria-label="Order summary">
        <dl>
          <dt>Plan</dt>
          <dd>{price.nickname ?? price.id}</dd>
          <dt>Price</dt>
          <dd>
            {priceLabel(price)}
            {(lineItem.quantity ?? 1) > 1 && ` × ${lineItem.quantity}`}
          </dd>
          {trialPeriodDays && (
            <>
              <dt>Free trial</dt>
              <dd>
                {trialPeriodDays} days; the first payment is taken on{" "}
                {day(now + trialPeriodDays * DAY_SECONDS)}
              </dd>
            </>
          )}
          <dt>Due today</dt>
          <dd>{formatAmount(session.amount_total ?? 0, session.currency ?? price.currency)}</dd>
        </dl>
      </section>
      {open
        ? (
          <>
            {
              /* Pay comes straight after the email: the default card needs no choosing, so the
                usual way through is two steps by keyboard. The other test cards follow. */
            }
            <form method="post" action={`/checkout/${session.id}/pay`} class="stacked">
              {email ? <p>Paying as {email}</p> : (
                <>
                  <label for="email">Email address</label>
                  <input id="email" name="email" type="email" autocomplete="email" required />
                </>
              )}
              <p>
                <button type="submit">Pay</button>
              </p>
              <TestCardChoice legend="Test card" />
            </form>
            <form method="post" action={`/checkout/${session.id}/pay`} class="stacked">
              <input type="hidden" name="method" value="bacs_debit" />
              {!email && (
                <>
                  <label for="debit-email">Email address for the bank debit</label>
                  <input
                    id="debit-email"
                    name="email"
                    type="email"
                    autocomplete="email"
                    required
                  />
                </>
              )}
              <p>
                <button type="submit" class="secondary">Bank debit (settles later)</button>
              </p>
            </form>
            {session.cancel_url && (
              <form method="post" action={`/checkout/${session.id}/cancel`}>
                <button type="submit" class="secondary">Cancel</button>
              </form>
            )}
          </>
        )
        : (
          <p>
            {session.status === "complete"
              ? session.payment_status === "unpaid"
                ? "This checkout session is complete; its bank debit has not settled yet. "
                : "This checkout session is complete. "
              : "This checkout session has expired. "}
            {session.success_url && session.status === "complete" && (
              <a href={successUrl(session)}>Continue</a>
            )}
          </p>
        )}
    </>,
  );
}
