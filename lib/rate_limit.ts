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

/**
 * The network a client address belongs to, for limits that must not let one party lock another
 * out: an IPv4 /24 or an IPv6 /64 (what one household, office or host usually holds). Anything
 * unparseable is its own network.
 */
export function clientNetwork(ip: string): string {
  const v4 = /^(?:::ffff:)?(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.\d{1,3}$/i.exec(ip);
  if (v4) return `${v4[1]}.${v4[2]}.${v4[3]}.0/24`;
  if (ip.includes(":")) {
    const expanded = expandIpv6(ip);
    if (expanded) return `${expanded.slice(0, 4).join(":")}::/64`;
  }
  return ip;
}

/** The eight groups of an IPv6 address, or null if it is not one. */
function expandIpv6(ip: string): string[] | null {
  const address = ip.replace(/^\[|\]$/g, "").split("%")[0].toLowerCase();
  const halves = address.split("::");
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(":") : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const missing = 8 - head.length - tail.length;
  if ((halves.length === 1 && missing !== 0) || missing < 0) return null;
  const groups = [...head, ...Array(missing).fill("0"), ...tail];
  if (!groups.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return null;
  return groups.map((g) => g.replace(/^0+(?=.)/, ""));
}
