/**
 * Sessions: a random token (the web edge keeps it in an HttpOnly cookie); only its SHA-256 is
 * stored, so a leaked database cannot be replayed as cookies. Sessions last 30 days.
 */
import type { Queryable } from "../db/client.ts";
import { randomToken, sha256Hex } from "../crypto.ts";
import type { User } from "./users.ts";

export const SESSION_TTL_SECONDS = 30 * 24 * 3600;

export async function createSession(db: Queryable, userId: number, now: Date): Promise<string> {
  const token = randomToken();
  const expiresAt = new Date(now.getTime() + SESSION_TTL_SECONDS * 1000);
  await db`
    insert into sessions (token_hash, user_id, created_at, expires_at)
    values (${await sha256Hex(token)}, ${userId}, ${now}, ${expiresAt})`;
  return token;
}

export async function findSessionUser(
  db: Queryable,
  token: string,
  now: Date,
): Promise<User | null> {
  const [user] = await db<User[]>`
    select users.* from sessions join users on users.id = sessions.user_id
    where sessions.token_hash = ${await sha256Hex(token)} and sessions.expires_at > ${now}`;
  return user ?? null;
}

export async function endSession(db: Queryable, token: string): Promise<void> {
  await db`delete from sessions where token_hash = ${await sha256Hex(token)}`;
}
