/**
 * The hosted customer portal a portal session's `url` points to: the customer's subscriptions,
 * each with "Cancel at period end" (or "Don't cancel") and "Cancel now", and a way back to the
 * session's `return_url`.
 */
import { Hono } from "hono";
import { cancelSubscription, updateSubscription } from "../billing.ts";
import { NO_REQUEST } from "../events.ts";
import { itemOf, type PortalSession, type Subscription } from "../objects.ts";
import type { Store } from "../store.ts";
import { day, htmlResponse, priceLabel, renderDocument } from "./document.tsx";

const ACTIONS = ["cancel_at_period_end", "renew", "cancel_now"] as const;
type Action = typeof ACTIONS[number];

export function portalRoutes(store: Store): Hono {
  const app = new Hono();

  app.get("/portal/:id", (c) => {
    const session = store.portalSessions.get(c.req.param("id"));
    if (!session) return notFound("This portal session does not exist.");
    return htmlResponse(portalPage(store, session));
  });

  app.post("/portal/:id/subscriptions/:subscription/:action", (c) => {
    const session = store.portalSessions.get(c.req.param("id"));
    const subscription = store.subscriptions.get(c.req.param("subscription"));
    const action = c.req.param("action") as Action;
    if (
      !session || !subscription || subscription.customer !== session.customer ||
      subscription.status === "canceled" || !ACTIONS.includes(action)
    ) {
      return notFound("That subscription cannot be changed here.");
    }
    if (action === "cancel_now") cancelSubscription(store, subscription, NO_REQUEST);
    else {
      updateSubscription(store, subscription, {
        cancelAtPeriodEnd: action === "cancel_at_period_end",
      }, NO_REQUEST);
    }
    return c.redirect(`/portal/${session.id}`, 303);
  });

  return app;
}

function notFound(message: string): Response {
  return htmlResponse(renderDocument("Not found", <h1>{message}</h1>), 404);
}

const STATUS_LABELS: Record<string, string> = {
  active: "Active",
  trialing: "Free trial",
  past_due: "Past due: the last payment failed",
};

function portalPage(store: Store, session: PortalSession): string {
  const customer = store.customers.get(session.customer)!;
  const subscriptions = [...store.subscriptions.values()].filter((subscription) =>
    subscription.customer === session.customer && subscription.status !== "canceled"
  );
  return renderDocument(
    "Manage your subscription",
    <>
      <h1>Manage your subscription</h1>
      <p>Signed in as {customer.email ?? customer.id}</p>
      {subscriptions.length
        ? subscriptions.map((subscription) => (
          <SubscriptionCard key={subscription.id} session={session} subscription={subscription} />
        ))
        : <p class="card">You have no current subscriptions.</p>}
      {session.return_url && (
        <p>
          <a href={session.return_url}>Return to site</a>
        </p>
      )}
    </>,
  );
}

function periodEndLabel(subscription: Subscription): string {
  if (subscription.cancel_at_period_end) return "Ends on";
  return subscription.status === "trialing" ? "Trial ends, first payment on" : "Renews on";
}

function SubscriptionCard(
  { session, subscription }: { session: PortalSession; subscription: Subscription },
) {
  const item = itemOf(subscription);
  const headingId = `heading-${subscription.id}`;
  const action = (name: Action) => `/portal/${session.id}/subscriptions/${subscription.id}/${name}`;
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
      {subscription.cancel_at_period_end
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
        )}
      <form method="post" action={action("cancel_now")}>
        <button type="submit" class="danger" aria-describedby={headingId}>
          Cancel now
        </button>
      </form>
    </section>
  );
}
