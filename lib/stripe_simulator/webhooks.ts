/**
 * Webhook delivery as Stripe does it: each event is POSTed as JSON with a `Stripe-Signature`
 * header, deliveries run concurrently with no promise of order, and a delivery that gets no 2xx
 * answer is retried with exponential backoff a bounded number of times.
 *
 * For tests, deliveries can be held back and released in any order, any event can be delivered
 * again, and `settled()` waits until nothing is in flight or waiting for a retry.
 */
import Stripe from "stripe";
import type { Logger } from "../log.ts";
import { SimulatorError } from "./errors.ts";
import type { SimulatedEvent } from "./events.ts";

/** About 17 minutes of retries: 1 s, 2 s, 4 s … 8.5 min. */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = Array.from(
  { length: 10 },
  (_, i) => 1000 * 2 ** i,
);

const ATTEMPT_TIMEOUT_MS = 10_000;

export interface DeliveryAttempt {
  eventId: string;
  eventType: string;
  attempt: number;
  ok: boolean;
  /** The endpoint's HTTP status, or null when it could not be reached. */
  status: number | null;
  error: string | null;
}

export interface WebhookSenderOptions {
  log: Logger;
  secret: string;
  /** Wait before each retry; its length bounds the number of retries. */
  retryDelaysMs: readonly number[];
}

export interface WebhookSender {
  endpoint: string | null;
  /** A new event: delivered now, or kept back while deliveries are held. */
  send(event: SimulatedEvent): void;
  /** Deliver an event again (a duplicate); resolves after the first attempt. */
  redeliver(event: SimulatedEvent): Promise<void>;
  hold(): void;
  held(): SimulatedEvent[];
  /** Deliver these held events one after another in this order; the rest stay held. */
  deliverHeld(eventIds: readonly string[]): Promise<void>;
  /** Stop holding and deliver whatever is still held, in the order it happened. */
  resume(): Promise<void>;
  settled(): Promise<void>;
  attempts: DeliveryAttempt[];
  close(): Promise<void>;
}

export function createWebhookSender(options: WebhookSenderOptions): WebhookSender {
  const { log, secret, retryDelaysMs } = options;
  let holding = false;
  let held: SimulatedEvent[] = [];
  const inFlight = new Set<Promise<void>>();
  const sleepers = new Set<() => void>();
  const closing = new AbortController();
  const attempts: DeliveryAttempt[] = [];

  /** Resolves after the first attempt; retries carry on, tracked for `settled()`. */
  function deliver(event: SimulatedEvent): Promise<void> {
    const endpoint = sender.endpoint;
    if (!endpoint || closing.signal.aborted) return Promise.resolve();
    const firstAttempt = Promise.withResolvers<void>();
    const run = (async () => {
      for (let attempt = 1;; attempt++) {
        const ok = await attemptDelivery(event, endpoint, attempt);
        if (attempt === 1) firstAttempt.resolve();
        const delay = retryDelaysMs[attempt - 1];
        if (ok || delay === undefined || closing.signal.aborted) return;
        await sleep(delay);
        if (closing.signal.aborted) return;
      }
    })();
    inFlight.add(run);
    run.finally(() => inFlight.delete(run));
    return firstAttempt.promise;
  }

  async function attemptDelivery(
    event: SimulatedEvent,
    endpoint: string,
    attempt: number,
  ): Promise<boolean> {
    const payload = JSON.stringify(event, null, 2);
    // Signed with wall-clock time even when the simulator's clock has been advanced: the
    // receiver checks the timestamp against its own clock.
    const signature = await Stripe.webhooks.generateTestHeaderStringAsync({
      payload,
      secret,
      timestamp: Math.floor(Date.now() / 1000),
    });
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), ATTEMPT_TIMEOUT_MS);
    let status: number | null = null;
    let error: string | null = null;
    try {
      const response = await fetch(endpoint, {
        method: "POST",
        headers: {
          "content-type": "application/json; charset=utf-8",
          "stripe-signature": signature,
          "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        },
        body: payload,
        signal: AbortSignal.any([timeout.signal, closing.signal]),
      });
      status = response.status;
      await response.body?.cancel();
    } catch (cause) {
      error = timeout.signal.aborted
        ? `no answer within ${ATTEMPT_TIMEOUT_MS} ms`
        : (cause as Error).message;
    } finally {
      clearTimeout(timer);
    }
    const ok = status !== null && status >= 200 && status < 300;
    attempts.push({ eventId: event.id, eventType: event.type, attempt, ok, status, error });
    const fields = { event_id: event.id, event_type: event.type, attempt, url: endpoint };
    if (ok) {
      event.pending_webhooks = 0;
      log.info("stripe_sim.webhook.delivered", { ...fields, status });
    } else {
      const retryInMs = retryDelaysMs[attempt - 1] ?? null;
      log.warn("stripe_sim.webhook.failed", {
        ...fields,
        ...(status === null ? { error } : { status }),
        ...(retryInMs === null ? { gave_up: true } : { retry_in_ms: retryInMs }),
      });
    }
    return ok;
  }

  /** A wait that `close()` can cut short. */
  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      sleepers.add(wake);
    });
  }

  async function deliverInOrder(events: SimulatedEvent[]): Promise<void> {
    for (const event of events) await deliver(event);
  }

  const sender: WebhookSender = {
    endpoint: null,
    send(event) {
      if (!sender.endpoint) return;
      event.pending_webhooks = 1;
      if (holding) held.push(event);
      else deliver(event);
    },
    redeliver: deliver,
    hold() {
      holding = true;
    },
    held: () => [...held],
    async deliverHeld(eventIds) {
      const chosen = eventIds.map((id) => {
        const event = held.find((e) => e.id === id);
        if (!event) throw new SimulatorError(`Event ${id} is not being held.`);
        return event;
      });
      held = held.filter((event) => !chosen.includes(event));
      await deliverInOrder(chosen);
    },
    async resume() {
      holding = false;
      const rest = held;
      held = [];
      await deliverInOrder(rest);
    },
    async settled() {
      while (inFlight.size) await Promise.allSettled([...inFlight]);
    },
    attempts,
    async close() {
      closing.abort();
      for (const wake of [...sleepers]) wake();
      await sender.settled();
    },
  };
  return sender;
}
