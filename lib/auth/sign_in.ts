/**
 * Sign-in by emailed link. Requesting a link answers the same whether or not the address has an
 * account; the link is a single-use token valid for 15 minutes, stored only as a hash. Following
 * it creates the account on first use, records a pending referral, and starts a session — all in
 * one transaction.
 */
import type { Services } from "../services.ts";
import { withTransaction } from "../db/client.ts";
import { randomToken, sha256Hex } from "../crypto.ts";
import { consumeRateLimits } from "../rate_limit.ts";
import { DAY_MS } from "../time.ts";
import { hasControlCharacters } from "../text.ts";
import { recordReferral } from "../referrals/capture.ts";
import { createSession } from "./sessions.ts";
import { emailSchema, findOrCreateUser, type User } from "./users.ts";

export const SIGN_IN_LINK_MINUTES = 15;

export type SignInRequestResult =
  | { outcome: "sent" }
  | { outcome: "rate_limited"; retryAfterSeconds: number };

export async function requestSignInLink(
  services: Pick<Services, "config" | "db" | "mailer" | "now">,
  request: { email: string; next: string; referralCode: string | null; ip: string },
): Promise<SignInRequestResult> {
  const { config, db, mailer } = services;
  const now = services.now();
  const limits = config.signInLimits;
  const limited = await consumeRateLimits(db, [
    {
      key: `sign-in:email:${request.email}`,
      max: limits.perEmail,
      windowSeconds: limits.windowSeconds,
    },
    { key: `sign-in:ip:${request.ip}`, max: limits.perIp, windowSeconds: limits.windowSeconds },
  ], now);
  if (!limited.allowed) {
    return { outcome: "rate_limited", retryAfterSeconds: limited.retryAfterSeconds };
  }

  const token = randomToken();
  const expiresAt = new Date(now.getTime() + SIGN_IN_LINK_MINUTES * 60_000);
  // Links expired for a day are only clutter (a day keeps "this link has expired" accurate).
  await db`delete from login_tokens where expires_at < ${new Date(now.getTime() - DAY_MS)}`;
  await db`
    insert into login_tokens (token_hash, email, next_path, referral_code, created_at, expires_at)
    values (${await sha256Hex(token)}, ${request.email}, ${request.next}, ${request.referralCode},
            ${now}, ${expiresAt})`;
  const url = `${config.siteUrl}/auth/verify?token=${encodeURIComponent(token)}`;
  await mailer.sendSignInLink(request.email, url, SIGN_IN_LINK_MINUTES);
  return { outcome: "sent" };
}

export type SignInResult =
  | { outcome: "signed_in"; user: User; sessionToken: string; next: string; created: boolean }
  | { outcome: "unknown" | "used" | "expired" };

export async function completeSignIn(
  services: Pick<Services, "db" | "now" | "log">,
  token: string,
  referralCodeFromCookie: string | null,
): Promise<SignInResult> {
  const now = services.now();
  const tokenHash = await sha256Hex(token);
  return await withTransaction(services.db, async (tx) => {
    // The conditional update is the single-use guarantee: of two concurrent clicks, one wins.
    const [link] = await tx<{ email: string; nextPath: string; referralCode: string | null }[]>`
      update login_tokens set used_at = ${now}
      where token_hash = ${tokenHash} and used_at is null and expires_at > ${now}
      returning email, next_path, referral_code`;
    if (!link) {
      const [known] = await tx<{ usedAt: Date | null }[]>`
        select used_at from login_tokens where token_hash = ${tokenHash}`;
      if (!known) return { outcome: "unknown" as const };
      return { outcome: known.usedAt ? "used" as const : "expired" as const };
    }
    const { user, created } = await findOrCreateUser(tx, link.email);
    if (created) {
      const referred = await recordReferral(
        tx,
        user.id,
        link.referralCode ?? referralCodeFromCookie,
        now,
      );
      services.log.info("auth.user_created", { user_id: user.id, referred });
    }
    await tx`delete from sessions where expires_at < ${now}`;
    const sessionToken = await createSession(tx, user.id, now);
    return { outcome: "signed_in" as const, user, sessionToken, next: link.nextPath, created };
  });
}

/**
 * Where to go after signing in: a path on this site, never another host. Anything else (absolute
 * URLs, `//host`, backslash tricks, control characters) falls back to `/`.
 */
export function safeNextPath(next: unknown, siteUrl: string): string {
  if (typeof next !== "string" || !next.startsWith("/") || next.length > 2000) return "/";
  if (hasControlCharacters(next) || next.includes("\\") || next.startsWith("//")) return "/";
  try {
    const site = new URL(siteUrl);
    const target = new URL(next, site);
    if (target.origin !== site.origin) return "/";
    return `${target.pathname}${target.search}${target.hash}`;
  } catch {
    return "/";
  }
}

export type SignInAsk =
  | { outcome: "sent" }
  | { outcome: "invalid"; message: string }
  | { outcome: "rate_limited"; retryAfterSeconds: number }
  | { outcome: "unavailable" };

/**
 * What both sign-in forms (the page and the JSON API) do with what a person typed: validate,
 * rate-limit, send. The same answer whether or not the address has an account.
 */
export async function askForSignInLink(
  services: Pick<Services, "config" | "db" | "mailer" | "now" | "log">,
  input: { email: unknown; next?: unknown; ip: string; referralCode: string | null },
): Promise<SignInAsk> {
  const email = emailSchema.safeParse(input.email);
  if (!email.success) return { outcome: "invalid", message: "Enter a valid email address" };
  try {
    return await requestSignInLink(services, {
      email: email.data,
      next: safeNextPath(input.next, services.config.siteUrl),
      referralCode: input.referralCode,
      ip: input.ip,
    });
  } catch (error) {
    services.log.error("auth.sign_in_link_failed", { error });
    return { outcome: "unavailable" };
  }
}
