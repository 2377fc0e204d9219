/**
 * Sign-in by emailed link. Requesting a link answers the same whether or not the address has an
 * account; the link is a single-use token valid for 15 minutes, stored only as a hash.
 *
 * Following the link spends nothing: it shows a "Continue signing in" page that names the
 * account, because mail scanners open links before people do and a link opened in someone
 * else's browser must not switch that browser's account. Only the page's own POST spends the
 * token — creating the account on first use, recording the referral the person accepted, and
 * starting a session, all in one transaction. The browser that asked for the link carries a
 * nonce (only its hash is stored with the link), so there the page may continue by itself.
 */
import type { Services } from "../services.ts";
import type { Queryable } from "../db/client.ts";
import { withTransaction } from "../db/client.ts";
import { randomToken, sha256Hex } from "../crypto.ts";
import { clientNetwork, consumeRateLimits } from "../rate_limit.ts";
import { DAY_MS } from "../time.ts";
import { hasControlCharacters } from "../text.ts";
import { recordReferral, referrerFor } from "../referrals/capture.ts";
import { createSession } from "./sessions.ts";
import { emailSchema, findOrCreateUser, findUserByEmail, type User } from "./users.ts";

export const SIGN_IN_LINK_MINUTES = 15;

export type SignInRequestResult =
  | { outcome: "sent" }
  | { outcome: "rate_limited"; retryAfterSeconds: number };

export interface SignInRequest {
  email: string;
  next: string;
  /** The referral code the asking browser carries; it travels inside the link. */
  referralCode: string | null;
  ip: string;
  /** The asking browser's sign-in nonce (its cookie), so that browser may continue by itself. */
  browserNonce: string;
}

/**
 * Two limits, so that nobody can lock anyone else out:
 * - per client IP, across addresses: over it, the asker gets a 429 (it is their own IP);
 * - per address from one client network (/24 or /64): over it, the answer is unchanged but no
 *   mail is sent for a while. Requests for the same address from other networks — the person
 *   themselves — are counted apart and still get their link.
 */
export async function requestSignInLink(
  services: Pick<Services, "config" | "db" | "mailer" | "now" | "log">,
  request: SignInRequest,
): Promise<SignInRequestResult> {
  const { config, db, mailer } = services;
  const now = services.now();
  const limits = config.signInLimits;
  const byIp = await consumeRateLimits(db, [
    { key: `sign-in:ip:${request.ip}`, max: limits.perIp, windowSeconds: limits.windowSeconds },
  ], now);
  if (!byIp.allowed) return { outcome: "rate_limited", retryAfterSeconds: byIp.retryAfterSeconds };
  const network = clientNetwork(request.ip);
  const byAddress = await consumeRateLimits(db, [{
    key: `sign-in:email:${request.email}:net:${network}`,
    max: limits.perEmail,
    windowSeconds: limits.windowSeconds,
  }], now);
  if (!byAddress.allowed) {
    services.log.warn("auth.sign_in_mail_held", {
      network,
      retry_after_seconds: byAddress.retryAfterSeconds,
    });
    return { outcome: "sent" };
  }

  const token = randomToken();
  const expiresAt = new Date(now.getTime() + SIGN_IN_LINK_MINUTES * 60_000);
  // Links expired for a day are only clutter (a day keeps "this link has expired" accurate).
  await db`delete from login_tokens where expires_at < ${new Date(now.getTime() - DAY_MS)}`;
  await db`
    insert into login_tokens (token_hash, email, next_path, referral_code, browser_hash,
                              created_at, expires_at)
    values (${await sha256Hex(token)}, ${request.email}, ${request.next}, ${request.referralCode},
            ${await sha256Hex(request.browserNonce)}, ${now}, ${expiresAt})`;
  const url = `${config.siteUrl}/auth/verify?token=${encodeURIComponent(token)}`;
  await mailer.sendSignInLink(request.email, url, SIGN_IN_LINK_MINUTES);
  return { outcome: "sent" };
}

export type LinkProblem = "unknown" | "used" | "expired";

export type SignInPreview =
  | {
    outcome: "ready";
    /** The account the link signs into. */
    email: string;
    /** No account has this address yet: continuing creates one. */
    newAccount: boolean;
    /** Opened in the browser that asked for it (its nonce matches). */
    sameBrowser: boolean;
    /** A friend's referral code came with the request, and would count for this new account. */
    invited: boolean;
  }
  | { outcome: LinkProblem };

/** What following a link would do, spending nothing: safe for GET, HEAD and mail scanners. */
export async function previewSignIn(
  services: Pick<Services, "db" | "now">,
  token: string,
  browserNonce: string | null,
): Promise<SignInPreview> {
  const { db } = services;
  const [link] = await db<
    {
      email: string;
      referralCode: string | null;
      browserHash: string | null;
      usedAt: Date | null;
      expiresAt: Date;
    }[]
  >`
    select email, referral_code, browser_hash, used_at, expires_at from login_tokens
    where token_hash = ${await sha256Hex(token)}`;
  const problem = linkProblem(link, services.now());
  if (problem) return { outcome: problem };
  const newAccount = !await findUserByEmail(db, link.email);
  return {
    outcome: "ready",
    email: link.email,
    newAccount,
    sameBrowser: browserNonce !== null && link.browserHash === await sha256Hex(browserNonce),
    invited: newAccount && await referrerFor(db, link.referralCode, link.email) !== null,
  };
}

function linkProblem(
  link: { usedAt: Date | null; expiresAt: Date } | undefined,
  now: Date,
): LinkProblem | null {
  if (!link) return "unknown";
  if (link.usedAt) return "used";
  if (link.expiresAt <= now) return "expired";
  return null;
}

export type SignInResult =
  | { outcome: "signed_in"; user: User; sessionToken: string; next: string; created: boolean }
  | { outcome: LinkProblem };

/**
 * Spend the link and start a session. A referral is recorded only for a new account, from the
 * code that travelled in the link, and only when the person accepted the invitation.
 */
export async function completeSignIn(
  services: Pick<Services, "db" | "now" | "log">,
  token: string,
  choices: { acceptInvitation: boolean },
): Promise<SignInResult> {
  const now = services.now();
  const tokenHash = await sha256Hex(token);
  return await withTransaction(services.db, async (tx) => {
    // The conditional update is the single-use guarantee: of two concurrent clicks, one wins.
    const [link] = await tx<{ email: string; nextPath: string; referralCode: string | null }[]>`
      update login_tokens set used_at = ${now}
      where token_hash = ${tokenHash} and used_at is null and expires_at > ${now}
      returning email, next_path, referral_code`;
    if (!link) return { outcome: await spentLinkProblem(tx, tokenHash, now) };
    const { user, created } = await findOrCreateUser(tx, link.email);
    if (created) {
      const referred = choices.acceptInvitation &&
        await recordReferral(tx, user, link.referralCode, now);
      services.log.info("auth.user_created", { user_id: user.id, referred });
    }
    await tx`delete from sessions where expires_at < ${now}`;
    const sessionToken = await createSession(tx, user.id, now);
    return { outcome: "signed_in" as const, user, sessionToken, next: link.nextPath, created };
  });
}

async function spentLinkProblem(db: Queryable, tokenHash: string, now: Date) {
  const [link] = await db<{ usedAt: Date | null; expiresAt: Date }[]>`
    select used_at, expires_at from login_tokens where token_hash = ${tokenHash}`;
  return linkProblem(link, now) ?? "used";
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
  input: {
    email: unknown;
    next?: unknown;
    ip: string;
    referralCode: string | null;
    browserNonce: string;
  },
): Promise<SignInAsk> {
  const email = emailSchema.safeParse(input.email);
  if (!email.success) return { outcome: "invalid", message: "Enter a valid email address" };
  try {
    return await requestSignInLink(services, {
      email: email.data,
      next: safeNextPath(input.next, services.config.siteUrl),
      referralCode: input.referralCode,
      ip: input.ip,
      browserNonce: input.browserNonce,
    });
  } catch (error) {
    services.log.error("auth.sign_in_link_failed", { error });
    return { outcome: "unavailable" };
  }
}
