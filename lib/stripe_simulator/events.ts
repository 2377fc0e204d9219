/**
 * Events in Stripe's shape. Each one carries a snapshot of its object as it was when the event
 * happened (later changes do not leak into it) and, for updates, the previous values of the
 * top-level fields that changed.
 */
import { newId } from "./ids.ts";
import { SIMULATED_API_VERSION } from "./objects.ts";

export type SimulatedEventType =
  | "checkout.session.completed"
  | "checkout.session.expired"
  | "checkout.session.async_payment_succeeded"
  | "checkout.session.async_payment_failed"
  | "customer.created"
  | "customer.updated"
  | "customer.deleted"
  | "customer.subscription.created"
  | "customer.subscription.updated"
  | "customer.subscription.deleted"
  | "customer.subscription.paused"
  | "customer.subscription.trial_will_end"
  | "invoice.paid"
  | "invoice.payment_failed"
  | "invoice.upcoming"
  | "invoice.voided"
  | "charge.refunded"
  | "charge.dispute.created"
  | "charge.dispute.closed"
  | "refund.created"
  | "payment_method.attached"
  | "payment_method.detached";

/** What caused an event: an API request (with its idempotency key), or nothing (`null`s). */
export interface EventRequest {
  id: string | null;
  idempotency_key: string | null;
}

export const NO_REQUEST: EventRequest = { id: null, idempotency_key: null };

export interface SimulatedEvent {
  id: string;
  object: "event";
  api_version: string;
  created: number;
  data: { object: unknown; previous_attributes?: Record<string, unknown> };
  livemode: false;
  /** Endpoints that have not yet acknowledged this event. */
  pending_webhooks: number;
  request: EventRequest;
  type: SimulatedEventType;
}

export function eventObject(input: {
  type: SimulatedEventType;
  object: object;
  previousAttributes?: Record<string, unknown>;
  request: EventRequest;
  created: number;
}): SimulatedEvent {
  return {
    id: newId("evt"),
    object: "event",
    api_version: SIMULATED_API_VERSION,
    created: input.created,
    data: {
      object: structuredClone(input.object),
      ...(input.previousAttributes ? { previous_attributes: input.previousAttributes } : {}),
    },
    livemode: false,
    pending_webhooks: 0,
    request: input.request,
    type: input.type,
  };
}

/** The old values of the top-level fields that differ, or null when nothing changed. */
export function previousAttributes(
  before: object,
  after: object,
): Record<string, unknown> | null {
  const old = before as Record<string, unknown>;
  const changed: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(after)) {
    if (JSON.stringify(old[key]) !== JSON.stringify(value)) changed[key] = old[key] ?? null;
  }
  return Object.keys(changed).length ? changed : null;
}
