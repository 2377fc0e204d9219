/**
 * Request parameters as Stripe takes them: form-encoded with bracketed keys
 * (`line_items[0][price]=…`, `metadata[plan]=…`, `expand[]=…`), checked against a strict zod
 * schema per endpoint. The first problem becomes Stripe's error for it: an unknown parameter, a
 * missing one, or an invalid value, always naming the parameter in Stripe's bracket notation.
 */
import { z } from "zod";
import { invalidRequest, type StripeApiError } from "./errors.ts";

export type ParamValue = string | Params;
export interface Params {
  [key: string]: ParamValue;
}

const KEY = /^([^[\]]+)((?:\[[^[\]]*\])*)$/;

/** Decode `a[b][0][c]=v&…` into nested objects. Arrays are made by `formArray` in a schema. */
export function decodeParams(search: URLSearchParams): Params {
  const root: Params = {};
  for (const [key, value] of search) {
    const match = KEY.exec(key);
    if (!match) throw invalidRequest(`Invalid parameter name: ${key}`, key);
    const path = [match[1], ...(match[2].match(/\[([^[\]]*)\]/g) ?? []).map((s) => s.slice(1, -1))];
    let node = root;
    for (let i = 0; i < path.length; i++) {
      // `expand[]=a&expand[]=b` appends, as with numbered keys.
      const segment = path[i] === "" ? String(Object.keys(node).length) : path[i];
      if (i === path.length - 1) {
        if (segment in node) throw invalidRequest(`Received ${key} more than once`, key);
        node[segment] = value;
        break;
      }
      const next = node[segment] ?? {};
      if (typeof next === "string") {
        throw invalidRequest(`Invalid parameter: ${key} conflicts with ${path[0]}`, key);
      }
      node = node[segment] = next;
    }
  }
  return root;
}

/** `["line_items", 0, "price"]` → `line_items[0][price]`, as Stripe names parameters. */
export function paramName(path: readonly PropertyKey[]): string {
  const [first, ...rest] = path.map(String);
  return first + rest.map((segment) => `[${segment}]`).join("");
}

/** Validate decoded parameters against an endpoint's schema, or throw Stripe's error. */
export function parseParams<T extends z.ZodType>(schema: T, params: Params): z.output<T> {
  const result = schema.safeParse(params, { reportInput: true, error: stripeMessage });
  if (result.success) return result.data;
  // Stripe reports unknown parameters before anything else.
  const issues = [...result.error.issues].sort((a, b) =>
    Number(b.code === "unrecognized_keys") - Number(a.code === "unrecognized_keys")
  );
  throw toStripeError(issues[0]);
}

function toStripeError(issue: z.core.$ZodIssue): StripeApiError {
  if (issue.code === "unrecognized_keys") {
    return invalidRequest(
      issue.message,
      paramName([...issue.path, issue.keys[0]]),
      "parameter_unknown",
    );
  }
  const param = paramName(issue.path);
  if (isMissing(issue)) return invalidRequest(issue.message, param, "parameter_missing");
  if (issue.code === "too_small" && issue.origin === "string" && issue.minimum === 1) {
    return invalidRequest(issue.message, param, "parameter_invalid_empty");
  }
  return invalidRequest(issue.message, param);
}

function isMissing(issue: { code: string; input?: unknown }): boolean {
  return issue.input === undefined &&
    (issue.code === "invalid_type" || issue.code === "invalid_value");
}

/** Messages in Stripe's words, for every issue a schema did not word itself. */
function stripeMessage(issue: z.core.$ZodRawIssue): string {
  const name = paramName(issue.path ?? []);
  if (issue.code === "unrecognized_keys") {
    const names = issue.keys.map((key) => paramName([...(issue.path ?? []), key]));
    return `Received unknown parameter${names.length > 1 ? "s" : ""}: ${names.join(", ")}`;
  }
  if (isMissing(issue)) return `Missing required param: ${name}.`;
  if (issue.code === "too_small" && issue.origin === "string" && issue.minimum === 1) {
    return `You passed an empty string for '${name}'. We assume empty values are an attempt to ` +
      `unset a parameter; however '${name}' cannot be unset. You should remove '${name}' from ` +
      "your request or supply a non-empty value.";
  }
  if (issue.code === "too_big" && issue.origin === "string") {
    return `Invalid ${name}: must be at most ${issue.maximum} characters`;
  }
  if (issue.code === "too_big" && issue.origin === "number") {
    return `Invalid ${name}: must be at most ${issue.maximum}`;
  }
  if (issue.code === "too_small" && issue.origin === "number") {
    return `Invalid ${name}: must be at least ${issue.minimum}`;
  }
  if (issue.code === "invalid_value") {
    return `Invalid ${name}: must be one of ${issue.values.map(String).join(", ")}`;
  }
  if (issue.code === "invalid_type") return `Invalid ${issue.expected} for ${name}`;
  return `Invalid value for ${name}`;
}

// Form values arrive as strings; these read them as Stripe does.

/** A non-empty string of at most `max` characters. */
export const formString = (max = 5000) => z.string().min(1).max(max);

export const formBoolean = z.enum(["true", "false"], {
  error: (issue) => issue.input === undefined ? undefined : `Invalid boolean: ${issue.input}`,
}).transform((value) => value === "true");

export const formInteger = (range: { min: number; max: number }) =>
  z.string().regex(/^-?\d+$/, {
    error: (issue) => `Invalid integer: ${issue.input}`,
  }).transform(Number).pipe(z.number().min(range.min).max(range.max));

export const formUrl = z.string().min(1).refine((value) => {
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}, { error: "Not a valid URL" });

/** A plausible address: Stripe checks the shape, not the mailbox. */
export function isEmailAddress(value: string): boolean {
  return /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(value);
}

/** Numbered keys (`items[0]`, `items[1]`) or appended ones (`items[]`) as an array. */
export const formArray = <T extends z.ZodType>(item: T) =>
  z.preprocess((value) => {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
    const keys = Object.keys(value);
    const inOrder = keys.every((key) => /^\d+$/.test(key)) &&
      keys.map(Number).sort((a, b) => a - b).every((n, i) => n === i);
    return inOrder
      ? keys.sort((a, b) => Number(a) - Number(b)).map((k) => (value as Params)[k])
      : value;
  }, z.array(item));

/**
 * Metadata: at most 50 keys of up to 40 characters, values up to 500. An empty value unsets a
 * key and `metadata=` (empty) unsets them all, so both come back as `""` for the caller to apply.
 */
export const formMetadata = z.union([
  z.literal(""),
  z.record(z.string().max(40), z.string().max(500)).refine(
    (metadata) => Object.keys(metadata).length <= 50,
    { error: "Invalid metadata: at most 50 keys" },
  ),
]);

export type MetadataParam = z.output<typeof formMetadata>;

/** Apply a metadata parameter to existing metadata. */
export function applyMetadata(
  current: Record<string, string>,
  change: MetadataParam | undefined,
): Record<string, string> {
  if (change === undefined) return current;
  if (change === "") return {};
  const next = { ...current };
  for (const [key, value] of Object.entries(change)) {
    if (value === "") delete next[key];
    else next[key] = value;
  }
  return next;
}

/** Every endpoint accepts `expand`; which paths are allowed is checked where objects render. */
export const expandParam = formArray(z.string()).optional();
