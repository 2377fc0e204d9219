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
import { isLive } from "../billing.ts";
import { catchUp } from "../clock.ts";
import { itemOf, type Subscription } from "../objects.ts";
import type { DisputeReason } from "../payment_objects.ts";
import type { SimulatorSettings, Store } from "../store.ts";
import type { WebhookSender } from "../webhooks.ts";
import { day, htmlResponse, priceLabel, renderDocument } from "./document.tsx";
import { formatAmount } from "../../format.ts";

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
  app.get("/_sim", (c) => {
    catchUp(parts.store);
    return htmlResponse(dashboardPage(parts, new URL(c.req.url).origin));
  });

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

  control("/_sim/clock/advance", (_, input) => {
    const to = readTime(input.to);
    if (!to) throw new SimulatorError('"to" is required: an ISO date or Unix seconds.');
    controls.advanceClock(to);
    return { now: parts.store.now().toISOString() };
  });
  control("/_sim/configure", (_, input) => ({ settings: controls.configure(readSettings(input)) }));
  control("/_sim/requests/fail_next", (_, input) => {
    controls.failNextRequests({
      count: readNumber(input.count, "count"),
      status: input.status === undefined || input.status === ""
        ? undefined
        : readNumber(input.status, "status") as 429 | 500,
      match: input.match ? String(input.match) : undefined,
    });
  });
  control("/_sim/subscriptions/:id/advance", (c, input) => ({
    subscription: controls.advanceSubscription(c.req.param("id")!, { to: readTime(input.to) }),
  }));
  control("/_sim/subscriptions/:id/fail_next_payment", (c) => {
    controls.failNextPayment(c.req.param("id")!);
  });
  control("/_sim/subscriptions/:id/fail_payments", (c, input) => {
    const count = input.count === "until_card_updated"
      ? "until_card_updated"
      : readNumber(input.count, "count");
    controls.failPayments(c.req.param("id")!, count);
  });
  control("/_sim/customers/:id/remove_payment_method", (c) => ({
    payment_method: controls.removePaymentMethod(c.req.param("id")!),
  }));
  control("/_sim/charges/:id/dispute", (c, input) => ({
    dispute: controls.disputeCharge(c.req.param("id")!, {
      reason: input.reason ? String(input.reason) as DisputeReason : undefined,
    }),
  }));
  control("/_sim/disputes/:id/close", (c, input) => ({
    dispute: controls.closeDispute(c.req.param("id")!, String(input.status) as "won" | "lost"),
  }));
  control("/_sim/checkout/:id/settle", (c, input) => ({
    session: controls.settleDelayedPayment(
      c.req.param("id")!,
      String(input.outcome) as "succeeded" | "failed",
    ),
  }));
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

function readNumber(value: unknown, name: string): number {
  const number = typeof value === "number" ? value : Number(String(value ?? ""));
  if (value === undefined || value === "" || !Number.isFinite(number)) {
    throw new SimulatorError(`"${name}" must be a number (got ${String(value)}).`);
  }
  return number;
}

/** Settings from JSON as they are, or from the page's form as text ("3, 5, 7"). */
function readSettings(input: ControlInput): Partial<SimulatorSettings> {
  const settings: Record<string, unknown> = { ...input };
  if (typeof settings.retrySchedule === "string") {
    settings.retrySchedule = settings.retrySchedule.trim()
      ? settings.retrySchedule.split(",").map((days) => Number(days.trim()))
      : [];
  }
  if (typeof settings.upcomingInvoiceDays === "string") {
    settings.upcomingInvoiceDays = Number(settings.upcomingInvoiceDays);
  }
  return settings as Partial<SimulatorSettings>;
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

      <section class="card" aria-labelledby="clock">
        <h2 id="clock">Clock and settings</h2>
        <form method="post" action="/_sim/clock/advance" class="stacked">
          <label for="clock-to">Advance the clock to (ISO date, e.g. 2027-01-01T00:00:00Z)</label>
          <input id="clock-to" name="to" type="text" required />
          <p>
            <button type="submit">Advance the clock</button>
          </p>
        </form>
        <form method="post" action="/_sim/configure" class="stacked">
          <label for="after-failed-retries">When the last retry of a payment fails</label>
          <select id="after-failed-retries" name="afterFailedRetries">
            {(["cancel", "unpaid", "past_due"] as const).map((choice) => (
              <option
                key={choice}
                value={choice}
                selected={store.settings.afterFailedRetries === choice}
              >
                {choice === "cancel"
                  ? "Cancel the subscription"
                  : choice === "unpaid"
                  ? "Mark the subscription unpaid"
                  : "Leave the subscription past due"}
              </option>
            ))}
          </select>
          <label for="retry-schedule">Retries: days after the previous attempt</label>
          <input
            id="retry-schedule"
            name="retrySchedule"
            type="text"
            value={store.settings.retrySchedule.join(", ")}
          />
          <label for="upcoming-days">invoice.upcoming this many days before a renewal</label>
          <input
            id="upcoming-days"
            name="upcomingInvoiceDays"
            type="number"
            min="1"
            max="60"
            value={String(store.settings.upcomingInvoiceDays)}
          />
          <p>
            <button type="submit" class="secondary">Save settings</button>
          </p>
        </form>
        <form method="post" action="/_sim/requests/fail_next" class="stacked">
          <label for="fail-count">Fail this many of the next API requests</label>
          <input id="fail-count" name="count" type="number" min="0" value="1" />
          <label for="fail-status">With</label>
          <select id="fail-status" name="status">
            <option value="429">429 rate limited</option>
            <option value="500">500 Stripe error</option>
          </select>
          <label for="fail-match">Only requests starting (optional)</label>
          <input id="fail-match" name="match" placeholder="POST /v1/subscriptions/" />
          <p>
            <button type="submit" class="secondary">Fail next requests</button>
          </p>
        </form>
      </section>

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

      <PaymentsSection store={store} />

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
  const live = isLive(subscription);
  const hasCard = !!customer?.invoice_settings.default_payment_method;
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
          <form method="post" action={path("fail_payments")}>
            <input type="hidden" name="count" value="until_card_updated" />
            <button type="submit" class="secondary" aria-describedby={headingId}>
              Fail payments until the card is updated
            </button>
          </form>
        </>
      )}
      {customer && hasCard && (
        <form
          method="post"
          action={`/_sim/customers/${customer.id}/remove_payment_method`}
        >
          <button type="submit" class="secondary" aria-describedby={headingId}>
            Remove payment method
          </button>
        </form>
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

/** Charges to dispute, open disputes to decide, and bank debits waiting to settle. */
function PaymentsSection({ store }: { store: Store }) {
  const charges = [...store.charges.values()].reverse().slice(0, 20);
  const disputes = [...store.disputes.values()].filter((dispute) =>
    dispute.status === "needs_response"
  );
  const unsettled = [...store.checkouts.values()].filter((record) => record.unsettledInvoice);
  return (
    <section class="card" aria-labelledby="payments">
      <h2 id="payments">Payments</h2>
      {unsettled.map(({ session }) => (
        <div key={session.id} role="group" aria-label={`Bank debit of ${session.id}`}>
          <p>
            Bank debit for <code>{session.id}</code> waiting to settle
          </p>
          {(["succeeded", "failed"] as const).map((outcome) => (
            <form key={outcome} method="post" action={`/_sim/checkout/${session.id}/settle`}>
              <input type="hidden" name="outcome" value={outcome} />
              <button
                type="submit"
                class="secondary"
                aria-label={`Bank debit ${outcome} for ${session.id}`}
              >
                {outcome === "succeeded" ? "Bank debit succeeds" : "Bank debit fails"}
              </button>
            </form>
          ))}
        </div>
      ))}
      {disputes.map((dispute) => (
        <div key={dispute.id} role="group" aria-label={`Dispute ${dispute.id}`}>
          <p>
            Dispute <code>{dispute.id}</code> of <code>{dispute.charge as string}</code>{" "}
            needs a response
          </p>
          {(["won", "lost"] as const).map((status) => (
            <form key={status} method="post" action={`/_sim/disputes/${dispute.id}/close`}>
              <input type="hidden" name="status" value={status} />
              <button
                type="submit"
                class="secondary"
                aria-label={`Close ${dispute.id} as ${status}`}
              >
                {`Close as ${status}`}
              </button>
            </form>
          ))}
        </div>
      ))}
      {charges.length
        ? (
          <table>
            <thead>
              <tr>
                <th scope="col">Charge</th>
                <th scope="col">Amount</th>
                <th scope="col">Refunded</th>
                <th scope="col">Action</th>
              </tr>
            </thead>
            <tbody>
              {charges.map((charge) => (
                <tr key={charge.id}>
                  <td>
                    <code>{charge.id}</code>
                  </td>
                  <td>{formatAmount(charge.amount, charge.currency)}</td>
                  <td>{formatAmount(charge.amount_refunded, charge.currency)}</td>
                  <td>
                    {!charge.disputed && charge.amount_refunded < charge.amount && (
                      <form method="post" action={`/_sim/charges/${charge.id}/dispute`}>
                        <button type="submit" class="secondary" aria-label={`Dispute ${charge.id}`}>
                          Dispute
                        </button>
                      </form>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )
        : <p>No charges yet.</p>}
    </section>
  );
}
