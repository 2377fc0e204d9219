/**
 * The hosted customer portal a portal session's `url` points to. Its configuration decides what
 * it offers: cancelling (at period end, at once, or both on the built-in configuration),
 * switching between the monthly and annual plans, replacing the card, and the invoice history.
 * A session created with `flow_data[type]=payment_method_update` shows only the card form and,
 * once it is used, goes where `after_completion` says.
 */
import { Hono } from "hono";
import { cancelSubscription, isLive, updateSubscription } from "../billing.ts";
import { chosenTestCard } from "../cards.ts";
import { catchUp } from "../clock.ts";
import { defaultPaymentMethod } from "../collection.ts";
import { StripeApiError } from "../errors.ts";
import { NO_REQUEST } from "../events.ts";
import { itemOf, type PortalSession, type Subscription } from "../objects.ts";
import { attachNewCard } from "../payments.ts";
import {
  cancelButtons,
  type PortalConfiguration,
  type ProrationBehavior,
} from "../portal_configurations.ts";
import type { Store } from "../store.ts";
import { day, htmlResponse, priceLabel, renderDocument, TestCardChoice } from "./document.tsx";
import { formatAmount } from "../../format.ts";

const ACTIONS = ["cancel_at_period_end", "renew", "cancel_now", "switch_plan"] as const;
type Action = typeof ACTIONS[number];

export function portalRoutes(store: Store): Hono {
  const app = new Hono();
  /** Flow sessions whose card form was used and that now show the portal's home page. */
  const finishedFlows = new Set<string>();

  function portalOf(id: string) {
    catchUp(store);
    const session = store.portalSessions.get(id);
    const customer = session && store.customers.get(session.customer);
    const configuration = session &&
      store.portalConfigurations.get(session.configuration as string);
    if (!session || !customer || !configuration) return null;
    return { session, configuration };
  }

  app.get("/portal/:id", (c) => {
    const portal = portalOf(c.req.param("id"));
    if (!portal) return notFound("This portal session does not exist.");
    const { session, configuration } = portal;
    if (session.flow && !finishedFlows.has(session.id)) {
      return htmlResponse(cardFlowPage(store, session));
    }
    return htmlResponse(portalPage(store, session, configuration));
  });

  app.post("/portal/:id/subscriptions/:subscription/:action", async (c) => {
    const portal = portalOf(c.req.param("id"));
    const subscription = store.subscriptions.get(c.req.param("subscription"));
    const action = c.req.param("action") as Action;
    if (
      !portal || !subscription || subscription.customer !== portal.session.customer ||
      !isLive(subscription) || !ACTIONS.includes(action) ||
      !offered(portal.configuration, action)
    ) {
      return notFound("That subscription cannot be changed here.");
    }
    const { session, configuration } = portal;
    try {
      if (action === "cancel_now") cancelSubscription(store, subscription, NO_REQUEST);
      else if (action === "switch_plan") {
        const form = await c.req.parseBody();
        const price = store.prices.get(String(form.price ?? ""));
        if (!price) return notFound("That plan does not exist.");
        const item = itemOf(subscription);
        updateSubscription(store, subscription, {
          priceChange: {
            itemId: item.id,
            price,
            prorationBehavior: configuration.features.subscription_update
              .proration_behavior as ProrationBehavior,
          },
        }, NO_REQUEST);
      } else {
        updateSubscription(store, subscription, {
          cancelAtPeriodEnd: action === "cancel_at_period_end",
        }, NO_REQUEST);
      }
    } catch (error) {
      if (!(error instanceof StripeApiError)) throw error;
      return htmlResponse(portalPage(store, session, configuration, error.message), 409);
    }
    return c.redirect(`/portal/${session.id}`, 303);
  });

  app.post("/portal/:id/payment_method", async (c) => {
    const portal = portalOf(c.req.param("id"));
    if (!portal?.configuration.features.payment_method_update.enabled) {
      return notFound("The card cannot be changed here.");
    }
    const { session } = portal;
    const form = await c.req.parseBody();
    const card = chosenTestCard(form);
    if (!card) return notFound("That is not one of the test cards.");
    attachNewCard(store, store.customers.get(session.customer)!, { type: "card", card });
    const after = session.flow?.after_completion;
    if (session.flow) finishedFlows.add(session.id);
    if (after?.type === "redirect" && after.redirect) {
      return c.redirect(after.redirect.return_url, 303);
    }
    if (after?.type === "hosted_confirmation") {
      return htmlResponse(confirmationPage(session, after.hosted_confirmation?.custom_message));
    }
    return c.redirect(`/portal/${session.id}`, 303);
  });

  return app;
}

function offered(configuration: PortalConfiguration, action: Action): boolean {
  const cancel = cancelButtons(configuration);
  switch (action) {
    case "cancel_at_period_end":
    case "renew":
      return cancel.includes("at_period_end");
    case "cancel_now":
      return cancel.includes("immediately");
    case "switch_plan":
      return configuration.features.subscription_update.enabled;
  }
}

function notFound(message: string): Response {
  return htmlResponse(renderDocument("Not found", <h1>{message}</h1>), 404);
}

const STATUS_LABELS: Record<string, string> = {
  active: "Active",
  trialing: "Free trial",
  past_due: "Past due: the last payment failed",
  unpaid: "Unpaid: payments failed and are no longer retried",
  paused: "Paused: the trial ended without a payment method",
  incomplete: "Waiting for the first payment to settle",
};

function portalPage(
  store: Store,
  session: PortalSession,
  configuration: PortalConfiguration,
  error?: string,
): string {
  const customer = store.customers.get(session.customer)!;
  const subscriptions = [...store.subscriptions.values()].filter((subscription) =>
    subscription.customer === session.customer && isLive(subscription)
  );
  const { features } = configuration;
  const headline = configuration.business_profile.headline;
  return renderDocument(
    "Manage your subscription",
    <>
      <h1>Manage your subscription</h1>
      {headline && <p>{headline}</p>}
      {error && <p role="alert">{error}</p>}
      <p>Signed in as {customer.email ?? customer.id}</p>
      {subscriptions.length
        ? subscriptions.map((subscription) => (
          <SubscriptionCard
            key={subscription.id}
            store={store}
            session={session}
            configuration={configuration}
            subscription={subscription}
          />
        ))
        : <p class="card">You have no current subscriptions.</p>}
      {features.payment_method_update.enabled && (
        <CardForm store={store} session={session} button="Update card" />
      )}
      {features.invoice_history.enabled && <InvoiceHistory store={store} session={session} />}
      {session.return_url && (
        <p>
          <a href={session.return_url}>Return to site</a>
        </p>
      )}
    </>,
  );
}

/** The `payment_method_update` flow: only the card form. */
function cardFlowPage(store: Store, session: PortalSession): string {
  return renderDocument(
    "Update your payment method",
    <>
      <h1>Update your payment method</h1>
      <CardForm store={store} session={session} button="Save card" />
    </>,
  );
}

function confirmationPage(session: PortalSession, message: string | null | undefined): string {
  return renderDocument(
    "Payment method updated",
    <>
      <h1>Payment method updated</h1>
      <p>{message ?? "Your new card will be used for your next payment."}</p>
      {session.return_url && (
        <p>
          <a href={session.return_url}>Return to site</a>
        </p>
      )}
    </>,
  );
}

function CardForm(
  { store, session, button }: { store: Store; session: PortalSession; button: string },
) {
  const current = defaultPaymentMethod(store, session.customer);
  return (
    <section class="card" aria-labelledby="payment-method">
      <h2 id="payment-method">Payment method</h2>
      <p>
        {current?.card
          ? `${current.card.brand} ending ${current.card.last4}`
          : current?.bacs_debit
          ? `Bank account ending ${current.bacs_debit.last4}`
          : "No payment method on file."}
      </p>
      <form method="post" action={`/portal/${session.id}/payment_method`} class="stacked">
        <TestCardChoice legend="New test card" />
        <p>
          <button type="submit">{button}</button>
        </p>
      </form>
    </section>
  );
}

function InvoiceHistory({ store, session }: { store: Store; session: PortalSession }) {
  const invoices = [...store.invoices.values()]
    .filter((invoice) => invoice.customer === session.customer)
    .reverse();
  return (
    <section class="card" aria-labelledby="invoice-history">
      <h2 id="invoice-history">Invoice history</h2>
      {invoices.length
        ? (
          <table>
            <thead>
              <tr>
                <th scope="col">Date</th>
                <th scope="col">Invoice</th>
                <th scope="col">Amount</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {invoices.map((invoice) => (
                <tr key={invoice.id}>
                  <td>{day(invoice.created)}</td>
                  <td>{invoice.number}</td>
                  <td>{formatAmount(invoice.total, invoice.currency)}</td>
                  <td>{invoice.status}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )
        : <p>No invoices yet.</p>}
    </section>
  );
}

function periodEndLabel(subscription: Subscription): string {
  if (subscription.cancel_at_period_end) return "Ends on";
  return subscription.status === "trialing" ? "Trial ends, first payment on" : "Renews on";
}

function SubscriptionCard(
  { store, session, configuration, subscription }: {
    store: Store;
    session: PortalSession;
    configuration: PortalConfiguration;
    subscription: Subscription;
  },
) {
  const item = itemOf(subscription);
  const headingId = `heading-${subscription.id}`;
  const action = (name: Action) => `/portal/${session.id}/subscriptions/${subscription.id}/${name}`;
  const cancel = cancelButtons(configuration);
  const otherPrices = configuration.features.subscription_update.enabled
    ? [...store.prices.values()].filter((price) => price.id !== item.price.id)
    : [];
  return (
    <section class="card" aria-labelledby={headingId}>
      <h2 id={headingId}>{item.price.nickname ?? item.price.id} plan</h2>
      <dl>
        <dt>Status</dt>
        <dd>{STATUS_LABELS[subscription.status] ?? subscription.status}</dd>
        <dt>Price</dt>
        <dd>{priceLabel(item.price)}</dd>
        <dt>{periodEndLabel(subscription)}</dt>
        <dd>{day(item.current_period_end)}</dd>
      </dl>
      {otherPrices.map((price) => (
        <form key={price.id} method="post" action={action("switch_plan")}>
          <input type="hidden" name="price" value={price.id} />
          <button type="submit" class="secondary" aria-describedby={headingId}>
            {`Switch to ${price.nickname ?? price.id} plan`}
          </button>
        </form>
      ))}
      {cancel.includes("at_period_end") && (subscription.cancel_at_period_end
        ? (
          <form method="post" action={action("renew")}>
            <button type="submit" class="secondary" aria-describedby={headingId}>
              Don't cancel
            </button>
          </form>
        )
        : (
          <form method="post" action={action("cancel_at_period_end")}>
            <button type="submit" class="secondary" aria-describedby={headingId}>
              Cancel at period end
            </button>
          </form>
        ))}
      {cancel.includes("immediately") && (
        <form method="post" action={action("cancel_now")}>
          <button type="submit" class="danger" aria-describedby={headingId}>
            Cancel now
          </button>
        </form>
      )}
    </section>
  );
}
