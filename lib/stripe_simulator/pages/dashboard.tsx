/**
 * `/_sim`: the simulator's own page and the HTTP form of the test controls, for demos and
 * scripts. A form post (the page's buttons) is answered with a redirect back to the page; a JSON
 * post (`curl -H 'content-type: application/json' -d '{…}'`) with JSON.
 *
 * The page can also start a checkout or open a portal: it does so by calling the simulator's
 * own `/v1` API, exactly as an app would.
 */
import { type Context, Hono } from "hono";
import { SimulatorError } from "../errors.ts";
import type { TestControls } from "../controls.ts";
import type { SimulatedEvent } from "../events.ts";
import { itemOf, type Subscription } from "../objects.ts";
import type { Store } from "../store.ts";
import type { WebhookSender } from "../webhooks.ts";
import { day, htmlResponse, priceLabel, renderDocument } from "./document.tsx";

export interface DashboardParts {
  store: Store;
  controls: TestControls;
  sender: WebhookSender;
  /** The simulator's API app and key, for starting checkouts and portals from the page. */
  api: Hono;
  apiKey: string;
}

type ControlInput = Record<string, unknown>;

export function dashboardRoutes(parts: DashboardParts): Hono {
  const { controls } = parts;
  const app = new Hono();

  app.get("/", (c) => c.redirect("/_sim"));
  app.get("/_sim", (c) => htmlResponse(dashboardPage(parts, new URL(c.req.url).origin)));

  app.post("/_sim/checkout", async (c) => {
    const form = await c.req.parseBody();
    const origin = new URL(c.req.url).origin;
    const params = new URLSearchParams({
      mode: "subscription",
      "line_items[0][price]": String(form.price ?? ""),
      "line_items[0][quantity]": "1",
      success_url: `${origin}/_sim`,
      cancel_url: `${origin}/_sim`,
    });
    if (form.trial_days) {
      params.set("subscription_data[trial_period_days]", String(form.trial_days));
    }
    if (form.email) params.set("customer_email", String(form.email));
    return await redirectToApiUrl(c, "/v1/checkout/sessions", params);
  });

  app.post("/_sim/portal", async (c) => {
    const form = await c.req.parseBody();
    const params = new URLSearchParams({
      customer: String(form.customer ?? ""),
      return_url: `${new URL(c.req.url).origin}/_sim`,
    });
    return await redirectToApiUrl(c, "/v1/billing_portal/sessions", params);
  });

  /** Create a session through the API and send the browser to its hosted page. */
  async function redirectToApiUrl(c: Context, path: string, params: URLSearchParams) {
    const response = await parts.api.request(new URL(path, c.req.url), {
      method: "POST",
      headers: {
        authorization: `Bearer ${parts.apiKey}`,
        "content-type": "application/x-www-form-urlencoded",
      },
      body: params,
    });
    const body = await response.json();
    if (!response.ok) {
      return htmlResponse(
        dashboardPage(parts, new URL(c.req.url).origin, body.error.message),
        response.status,
      );
    }
    return c.redirect(body.url, 303);
  }

  function control(path: string, run: (c: Context, input: ControlInput) => unknown) {
    app.post(path, async (c) => {
      const isForm = !(c.req.header("content-type") ?? "").startsWith("application/json");
      try {
        const input: ControlInput = isForm
          ? await c.req.parseBody({ all: true })
          : await c.req.json().catch(() => {
            throw new SimulatorError("The body is not valid JSON.");
          });
        const result = await run(c, input);
        return isForm ? c.redirect("/_sim", 303) : c.json(result ?? { ok: true });
      } catch (error) {
        if (!(error instanceof SimulatorError)) throw error;
        return isForm
          ? htmlResponse(dashboardPage(parts, new URL(c.req.url).origin, error.message), 400)
          : c.json({ error: { type: "simulator_error", message: error.message } }, 400);
      }
    });
  }

  control("/_sim/subscriptions/:id/advance", (c, input) => ({
    subscription: controls.advanceSubscription(c.req.param("id")!, { to: readTime(input.to) }),
  }));
  control("/_sim/subscriptions/:id/fail_next_payment", (c) => {
    controls.failNextPayment(c.req.param("id")!);
  });
  control("/_sim/subscriptions/:id/refund_last_charge", (c) => ({
    charge: controls.refundLastCharge(c.req.param("id")!),
  }));
  control("/_sim/events/:id/redeliver", (c) => controls.redeliver(c.req.param("id")!));
  control("/_sim/deliveries/hold", () => controls.holdDeliveries());
  control("/_sim/deliveries/deliver", (_, input) => controls.deliverHeld(readIds(input.event_ids)));
  control("/_sim/deliveries/resume", () => controls.resumeDeliveries());

  return app;
}

/** `to` as an ISO date or Unix seconds; absent means "the next boundary". */
function readTime(value: unknown): Date | undefined {
  if (value === undefined || value === "") return undefined;
  const date = typeof value === "number" || /^\d+$/.test(String(value))
    ? new Date(Number(value) * 1000)
    : new Date(String(value));
  if (Number.isNaN(date.getTime())) {
    throw new SimulatorError(`"to" must be an ISO date or Unix seconds (got ${String(value)}).`);
  }
  return date;
}

function readIds(value: unknown): string[] {
  const ids = Array.isArray(value) ? value : value === undefined ? [] : [value];
  if (!ids.length || !ids.every((id) => typeof id === "string")) {
    throw new SimulatorError("event_ids must list the held events to deliver, in order.");
  }
  return ids;
}

function dashboardPage(parts: DashboardParts, origin: string, error?: string): string {
  const { store, sender } = parts;
  const subscriptions = [...store.subscriptions.values()].reverse();
  const events = [...store.events.values()].reverse().slice(0, 50);
  const held = sender.held();
  return renderDocument(
    "Stripe simulator",
    <>
      <h1>Stripe simulator</h1>
      {error && <p role="alert">{error}</p>}
      <dl>
        <dt>API</dt>
        <dd>
          <code>{origin}/v1</code>
        </dd>
        <dt>Webhooks to</dt>
        <dd>{sender.endpoint ? <code>{sender.endpoint}</code> : "no endpoint yet"}</dd>
        <dt>Clock</dt>
        <dd>{store.now().toISOString()}</dd>
      </dl>

      <section class="card" aria-labelledby="start-checkout">
        <h2 id="start-checkout">Start a test checkout</h2>
        <form method="post" action="/_sim/checkout" class="stacked">
          <label for="price">Plan</label>
          <select id="price" name="price">
            {[...store.prices.values()].map((price) => (
              <option key={price.id} value={price.id}>
                {price.nickname} — {priceLabel(price)} ({price.id})
              </option>
            ))}
          </select>
          <label for="trial_days">Free trial in days (optional)</label>
          <input id="trial_days" name="trial_days" type="number" min="1" max="730" />
          <label for="email">Email address (optional; asked on the checkout page otherwise)</label>
          <input id="email" name="email" type="email" autocomplete="off" />
          <p>
            <button type="submit">Open checkout</button>
          </p>
        </form>
      </section>

      <section class="card" aria-labelledby="subscriptions">
        <h2 id="subscriptions">Subscriptions</h2>
        {subscriptions.length
          ? subscriptions.map((subscription) => (
            <SubscriptionControls
              key={subscription.id}
              store={store}
              subscription={subscription}
            />
          ))
          : <p>None yet.</p>}
      </section>

      <section class="card" aria-labelledby="deliveries">
        <h2 id="deliveries">Webhook deliveries</h2>
        {held.length
          ? (
            <>
              <p>
                Held back: deliver them one by one, in any order, or resume to send the rest.
              </p>
              <EventTable
                events={held}
                action={(event) => ({
                  path: "/_sim/deliveries/deliver",
                  label: "Deliver",
                  field: event.id,
                })}
              />
              <form method="post" action="/_sim/deliveries/resume">
                <button type="submit">Resume deliveries</button>
              </form>
            </>
          )
          : (
            <form method="post" action="/_sim/deliveries/hold">
              <button type="submit" class="secondary">Hold new deliveries</button>
            </form>
          )}
      </section>

      <section class="card" aria-labelledby="events">
        <h2 id="events">Latest events</h2>
        {events.length
          ? (
            <EventTable
              events={events}
              action={(event) => ({
                path: `/_sim/events/${event.id}/redeliver`,
                label: "Redeliver",
              })}
            />
          )
          : <p>None yet.</p>}
      </section>
    </>,
  );
}

function SubscriptionControls(
  { store, subscription }: { store: Store; subscription: Subscription },
) {
  const item = itemOf(subscription);
  const customer = store.customers.get(subscription.customer as string);
  const headingId = `subscription-${subscription.id}`;
  const path = (action: string) => `/_sim/subscriptions/${subscription.id}/${action}`;
  const live = subscription.status !== "canceled";
  return (
    <div aria-labelledby={headingId} role="group">
      <h3 id={headingId}>
        <code>{subscription.id}</code> · {customer?.email ?? subscription.customer}
      </h3>
      <p>
        {item.price.nickname}, {subscription.status}
        {live && subscription.cancel_at_period_end && ", cancels at period end"}
        {live && `; current period ends ${day(item.current_period_end)}`}
      </p>
      {live && (
        <>
          <form method="post" action={path("advance")}>
            <button type="submit" aria-describedby={headingId}>
              {subscription.status === "trialing" ? "End the trial" : "Advance to period end"}
            </button>
          </form>
          <form method="post" action={path("fail_next_payment")}>
            <button type="submit" class="secondary" aria-describedby={headingId}>
              Fail next payment
            </button>
          </form>
        </>
      )}
      <form method="post" action={path("refund_last_charge")}>
        <button type="submit" class="secondary" aria-describedby={headingId}>
          Refund last charge
        </button>
      </form>
      <form method="post" action="/_sim/portal">
        <input type="hidden" name="customer" value={subscription.customer as string} />
        <button type="submit" class="secondary" aria-describedby={headingId}>
          Open customer portal
        </button>
      </form>
    </div>
  );
}

function EventTable(
  { events, action }: {
    events: SimulatedEvent[];
    action: (event: SimulatedEvent) => { path: string; label: string; field?: string };
  },
) {
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">Type</th>
          <th scope="col">Event</th>
          <th scope="col">Awaiting delivery</th>
          <th scope="col">Action</th>
        </tr>
      </thead>
      <tbody>
        {events.map((event) => {
          const { path, label, field } = action(event);
          return (
            <tr key={event.id}>
              <td>{event.type}</td>
              <td>
                <code>{event.id}</code>
              </td>
              <td>{event.pending_webhooks ? "yes" : "no"}</td>
              <td>
                <form method="post" action={path}>
                  {field && <input type="hidden" name="event_ids" value={field} />}
                  <button type="submit" class="secondary" aria-label={`${label} ${event.id}`}>
                    {label}
                  </button>
                </form>
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
