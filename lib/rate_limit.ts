/**
 * Sliding-window rate limits counted in PostgreSQL, so every app instance shares them: several
 * instances must limit exactly as one would.
 *
 * Each allowed attempt is a row in `rate_limit_hits`. A check locks its keys (transaction-scoped
 * advisory locks, in a fixed order so two checks cannot deadlock), counts the rows inside the
 * window, and records a hit only when every limit has room: refused attempts do not extend a
 * lock-out.
 */
import type { Sql } from "./db/client.ts";
import { withTransaction } from "./db/client.ts";

export interface Limit {
  key: string;
  max: number;
  windowSeconds: number;
}

export type RateLimitResult = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export async function consumeRateLimits(
  db: Sql,
  limits: Limit[],
  now: Date,
): Promise<RateLimitResult> {
  const ordered = [...limits].sort((a, b) => a.key < b.key ? -1 : 1);
  return await withTransaction(db, async (tx) => {
    let retryAfterSeconds = 0;
    for (const limit of ordered) {
      await tx`select pg_advisory_xact_lock(hashtextextended(${"rate:" + limit.key}, 0))`;
      const windowStart = new Date(now.getTime() - limit.windowSeconds * 1000);
      await tx`delete from rate_limit_hits where key = ${limit.key} and hit_at <= ${windowStart}`;
      const [{ count, oldest }] = await tx<{ count: number; oldest: Date | null }[]>`
        select count(*)::int as count, min(hit_at) as oldest
        from rate_limit_hits where key = ${limit.key}`;
      if (count >= limit.max && oldest) {
        const freesAt = oldest.getTime() + limit.windowSeconds * 1000;
        retryAfterSeconds = Math.max(
          retryAfterSeconds,
          Math.ceil((freesAt - now.getTime()) / 1000),
        );
      }
    }
    if (retryAfterSeconds > 0) return { allowed: false, retryAfterSeconds };
    for (const limit of ordered) {
      await tx`insert into rate_limit_hits (key, hit_at) values (${limit.key}, ${now})`;
    }
    return { allowed: true };
  });
}
