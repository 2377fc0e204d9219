/**
 * What the `api_*.ts` route groups share: the handler signature `api.ts` runs them with, the
 * parameters every list takes, and list pages in Stripe's shape.
 */
import type { Context } from "hono";
import { z } from "zod";
import { invalidRequest, noSuch } from "./errors.ts";
import type { EventRequest } from "./events.ts";
import type { Customer } from "./objects.ts";
import { expandParam, formInteger, formString, isEmailAddress } from "./params.ts";
import type { Store } from "./store.ts";

/** What a handler gets besides its parameters. */
export interface ApiCall {
  /** The object id in the URL path, for `/v1/…/:id` routes. */
  id: string;
  origin: string;
  request: EventRequest;
}

export type Handler<S extends z.ZodType> = (params: z.output<S>, call: ApiCall) => object;

export type EndpointFactory = <S extends z.ZodType>(
  schema: S,
  handler: Handler<S>,
) => (c: Context) => Promise<Response>;

export const email = formString(512).refine(isEmailAddress, {
  error: (issue) => `Invalid email address: ${issue.input}`,
});

export const retrieveParams = z.strictObject({ expand: expandParam });

/** Every list endpoint pages the same way. */
export const listParams = {
  limit: formInteger({ min: 1, max: 100 }).optional(),
  starting_after: formString().optional(),
  ending_before: formString().optional(),
  expand: expandParam,
};

export interface ListPage<T> {
  object: "list";
  data: T[];
  has_more: boolean;
  url: string;
}

/**
 * One page of `objects`, newest first (the most recently created last among equals, as they
 * were stored): `limit` of them (default 10) after `starting_after` or before `ending_before`.
 */
export function listPage<T extends { id?: string; created: number }>(
  objects: Iterable<T>,
  params: { limit?: number; starting_after?: string; ending_before?: string },
  url: string,
): ListPage<T> {
  const all = [...objects].reverse().sort((a, b) => b.created - a.created);
  const limit = params.limit ?? 10;
  if (params.starting_after !== undefined && params.ending_before !== undefined) {
    throw invalidRequest(
      "You may only specify one of these parameters: ending_before, starting_after.",
      "ending_before",
    );
  }
  const cursor = params.starting_after ?? params.ending_before;
  let from = 0;
  let to = all.length;
  if (cursor !== undefined) {
    const at = all.findIndex((object) => object.id === cursor);
    const param = params.starting_after !== undefined ? "starting_after" : "ending_before";
    if (at < 0) {
      throw invalidRequest(`Invalid ${param}: no object '${cursor}' in this list.`, param);
    }
    if (params.starting_after !== undefined) from = at + 1;
    else to = at;
  }
  if (params.ending_before !== undefined) {
    const start = Math.max(from, to - limit);
    return { object: "list", data: all.slice(start, to), has_more: start > from, url };
  }
  return {
    object: "list",
    data: all.slice(from, from + limit),
    has_more: from + limit < to,
    url,
  };
}

export function found<T>(
  objects: Map<string, T>,
  kind: Parameters<typeof noSuch>[0],
  id: string,
): T {
  const object = objects.get(id);
  if (!object) throw noSuch(kind, id);
  return object;
}

/** A customer named by a parameter: unknown and deleted ones are both "No such customer". */
export function customerParam(store: Store, id: string, param = "customer"): Customer {
  const customer = store.customers.get(id);
  if (!customer) throw noSuch("cus", id, param);
  return customer;
}
