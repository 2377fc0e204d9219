/** Hashing and random tokens, shared by migrations, sessions, sign-in links and admin checks. */
import { createHash } from "node:crypto";

// SHA-256 runs on every signed-in request (the session cookie's hash): `node:crypto` hashes in
// place, where `crypto.subtle.digest` costs a round trip to a worker thread ten times as long.
export function sha256Hex(data: string | Uint8Array): Promise<string> {
  return Promise.resolve(createHash("sha256").update(data).digest("hex"));
}

export function sha256(data: string | Uint8Array): Promise<Uint8Array> {
  return Promise.resolve(new Uint8Array(createHash("sha256").update(data).digest()));
}

/** A URL-safe random token of `bytes` random bytes (base64url, no padding). */
export function randomToken(bytes = 32): string {
  const raw = crypto.getRandomValues(new Uint8Array(bytes));
  return btoa(String.fromCharCode(...raw)).replaceAll("+", "-").replaceAll("/", "_")
    .replace(/=+$/, "");
}

/**
 * Compare two secrets in time that depends on neither: both are hashed first, so even their
 * lengths do not leak through timing.
 */
export async function secretsEqual(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([sha256(a), sha256(b)]);
  let difference = 0;
  for (let i = 0; i < x.length; i++) difference |= x[i] ^ y[i];
  return difference === 0;
}
