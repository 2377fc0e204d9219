/**
 * Idempotency keys as Stripe honours them on POST requests: the first response a key produced
 * is replayed for a retry with the same parameters; the same key with different parameters is
 * an `idempotency_error`. As at Stripe, only requests that began executing are remembered — one
 * that failed validation can be retried with the same key — and keys are forgotten after 24 h.
 */
import { invalidRequest, StripeApiError } from "./errors.ts";
import type { Params, ParamValue } from "./params.ts";

const KEY_LIFETIME_MS = 24 * 3600 * 1000;
const MAX_KEY_LENGTH = 255;

export interface SavedResponse {
  status: number;
  body: string;
}

interface Entry {
  fingerprint: string;
  response: SavedResponse;
  savedAt: number;
}

export interface IdempotencyKeys {
  /** The response saved for `key`, or null; throws when the key was used for another request. */
  replay(key: string, fingerprint: string): SavedResponse | null;
  save(key: string, fingerprint: string, response: SavedResponse): void;
}

export function createIdempotencyKeys(now: () => Date): IdempotencyKeys {
  const entries = new Map<string, Entry>();

  function forgetExpired() {
    const oldest = now().getTime() - KEY_LIFETIME_MS;
    // Map iteration follows insertion, so the oldest entries come first.
    for (const [key, entry] of entries) {
      if (entry.savedAt > oldest) break;
      entries.delete(key);
    }
  }

  return {
    replay(key, fingerprint) {
      if (key.length > MAX_KEY_LENGTH) {
        throw invalidRequest(
          `Idempotency-Key must be at most ${MAX_KEY_LENGTH} characters long.`,
          "Idempotency-Key",
        );
      }
      forgetExpired();
      const entry = entries.get(key);
      if (!entry) return null;
      if (entry.fingerprint !== fingerprint) {
        throw new StripeApiError(
          400,
          "idempotency_error",
          "Keys for idempotent requests can only be used with the same parameters they were " +
            `first used with. Try using a key other than '${key}' if you meant to execute a ` +
            "different request.",
        );
      }
      return entry.response;
    },
    save(key, fingerprint, response) {
      entries.set(key, { fingerprint, response, savedAt: now().getTime() });
    },
  };
}

/** What makes two requests "the same": method, path and parameters, whatever their order. */
export function requestFingerprint(method: string, path: string, params: Params): string {
  return `${method} ${path} ${JSON.stringify(sortedKeys(params))}`;
}

function sortedKeys(value: ParamValue): ParamValue {
  if (typeof value === "string") return value;
  return Object.fromEntries(
    Object.keys(value).sort().map((key) => [key, sortedKeys(value[key])]),
  );
}
