/**
 * Stripe for tests: the built-in simulator with the real SDK pointed at it, a webhook endpoint
 * that verifies every delivery's signature as the app must, and a browser-like way to press the
 * buttons on the simulator's hosted pages.
 */
import Stripe from "stripe";
import { createStripeClient } from "../../lib/stripe/client.ts";
import { startStripeSimulator, type StripeSimulator } from "../../lib/stripe_simulator/mod.ts";
import { type CapturedLog, captureLog } from "./logs.ts";

/** Retries in milliseconds, so a test sees a whole retry schedule at once. */
export const FAST_RETRIES = [5, 10, 20];

export interface SimulatedStripe {
  sim: StripeSimulator;
  stripe: Stripe;
  logs: CapturedLog;
  close(): Promise<void>;
}

export async function startSimulatedStripe(
  options: { now?: () => Date; retryDelaysMs?: readonly number[] } = {},
): Promise<SimulatedStripe> {
  const logs = captureLog();
  const sim = await startStripeSimulator({
    log: logs.log,
    now: options.now,
    retryDelaysMs: options.retryDelaysMs ?? FAST_RETRIES,
  });
  return {
    sim,
    stripe: createStripeClient({ apiKey: sim.apiKey, apiBase: sim.url }),
    logs,
    close: () => sim.close(),
  };
}

export interface WebhookReceiver {
  url: string;
  /** Every delivery whose signature verified, in arrival order (duplicates included). */
  events: Stripe.Event[];
  /** Deliveries whose signature did not verify. */
  rejected: string[];
  /** Answer the next deliveries with these statuses (then 200 again). */
  answerNext(...statuses: number[]): void;
  /** The verified events of one type, in arrival order. */
  ofType(type: string): Stripe.Event[];
  close(): Promise<void>;
}

export async function startWebhookReceiver(secret: string): Promise<WebhookReceiver> {
  const events: Stripe.Event[] = [];
  const rejected: string[] = [];
  const answers: number[] = [];
  const listening = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: listening.resolve },
    async (request) => {
      const payload = await request.text();
      try {
        events.push(
          await Stripe.webhooks.constructEventAsync(
            payload,
            request.headers.get("stripe-signature") ?? "",
            secret,
          ),
        );
      } catch (error) {
        rejected.push((error as Error).message);
        return new Response("bad signature", { status: 400 });
      }
      return new Response(null, { status: answers.shift() ?? 200 });
    },
  );
  return {
    url: `http://127.0.0.1:${(await listening.promise).port}/webhook`,
    events,
    rejected,
    answerNext: (...statuses) => answers.push(...statuses),
    ofType: (type) => events.filter((event) => event.type === type),
    close: () => server.shutdown(),
  };
}

/** A simulator whose webhooks go to a verifying receiver; `close` stops both. */
export async function startSimulatorWithReceiver(
  options: { now?: () => Date } = {},
): Promise<SimulatedStripe & { receiver: WebhookReceiver }> {
  const simulated = await startSimulatedStripe(options);
  const receiver = await startWebhookReceiver(simulated.sim.webhookSecret);
  simulated.sim.setWebhookUrl(receiver.url);
  return {
    ...simulated,
    receiver,
    async close() {
      await simulated.close();
      await receiver.close();
    },
  };
}

export interface Submitted {
  response: Response;
  /** Where the form sent the browser (its 303 Location), if anywhere. */
  location: string | null;
}

/**
 * Press the button labelled `label` on the page at `pageUrl`, as a browser would: post its form
 * (hidden inputs plus `fields`) with the page's origin, without following the redirect.
 */
export async function pressButton(
  pageUrl: string,
  label: string,
  fields: Record<string, string> = {},
): Promise<Submitted> {
  const html = await (await fetch(pageUrl)).text();
  const form = [...html.matchAll(/<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/g)]
    .find(([, , body]) => new RegExp(`<button[^>]*>\\s*${label}\\s*</button>`).test(body));
  if (!form) throw new Error(`no button "${label}" on ${pageUrl}`);
  const body = new URLSearchParams();
  for (
    const [, name, value] of form[2].matchAll(
      /<input type="hidden" name="([^"]+)" value="([^"]*)"/g,
    )
  ) {
    body.append(name, value);
  }
  for (const [name, value] of Object.entries(fields)) body.append(name, value);
  const action = new URL(form[1].replaceAll("&amp;", "&"), pageUrl);
  const response = await fetch(action, {
    method: "POST",
    headers: { origin: action.origin, "content-type": "application/x-www-form-urlencoded" },
    body,
    redirect: "manual",
  });
  return { response, location: response.headers.get("location") };
}

/** Create a subscription checkout through the SDK and pay it on the hosted page. */
export async function subscribe(
  stripe: Stripe,
  options: { price: string; email?: string; trialDays?: number; customer?: string },
): Promise<{ session: Stripe.Checkout.Session; subscription: Stripe.Subscription }> {
  const created = await stripe.checkout.sessions.create({
    mode: "subscription",
    line_items: [{ price: options.price, quantity: 1 }],
    ...(options.customer
      ? { customer: options.customer }
      : { customer_email: options.email ?? "reader@example.com" }),
    ...(options.trialDays ? { subscription_data: { trial_period_days: options.trialDays } } : {}),
    success_url: "https://site.test/done",
  });
  const { response } = await pressButton(created.url!, "Pay");
  if (response.status !== 303) throw new Error(`paying failed with ${response.status}`);
  const session = await stripe.checkout.sessions.retrieve(created.id);
  const subscription = await stripe.subscriptions.retrieve(session.subscription as string);
  return { session, subscription };
}

/**
 * Run `action`, wait until its deliveries have settled, and return the events the receiver
 * verified meanwhile — each once, in the order the simulator emitted them (deliveries run
 * concurrently, so they may arrive in another order).
 */
export async function deliveredInOrder(
  { sim, receiver }: { sim: StripeSimulator; receiver: WebhookReceiver },
  action: () => unknown,
): Promise<Stripe.Event[]> {
  const before = receiver.events.length;
  await action();
  await sim.settled();
  const arrived = new Map(receiver.events.slice(before).map((event) => [event.id, event]));
  return sim.events().flatMap((event) => arrived.get(event.id) ?? []);
}

/** The events of one type among `events`, typed. */
export function eventsOfType<T extends Stripe.Event>(
  events: Stripe.Event[],
  type: T["type"],
): T[] {
  return events.filter((event): event is T => event.type === type);
}
