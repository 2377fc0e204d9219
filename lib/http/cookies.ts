/**
 * The site's cookies: the session (30 days, only its hash is stored), a pending referral code
 * (30 days) and the sign-in nonce that marks the browser which asked for a sign-in link (as long
 * as a link lives; only its hash is stored). Every one carries the same flags.
 */
import { serialize } from "hono/utils/cookie";
import type { Config } from "../config.ts";
import { SESSION_TTL_SECONDS } from "../auth/sessions.ts";
import { SIGN_IN_LINK_MINUTES } from "../auth/sign_in.ts";

export const SESSION_COOKIE = "rm_session";
export const REFERRAL_COOKIE = "rm_ref";
export const SIGN_IN_BROWSER_COOKIE = "rm_signin";
const REFERRAL_COOKIE_SECONDS = 30 * 24 * 3600;

/** Flags every cookie of this site carries. */
export function cookieBase(config: Config) {
  return {
    path: "/",
    httpOnly: true,
    sameSite: "Lax" as const,
    secure: config.appEnv === "production",
  };
}

export function sessionCookie(config: Config, token: string): string {
  return serialize(SESSION_COOKIE, token, { ...cookieBase(config), maxAge: SESSION_TTL_SECONDS });
}

export function clearedSessionCookie(config: Config): string {
  return serialize(SESSION_COOKIE, "", { ...cookieBase(config), maxAge: 0 });
}

export function referralCookie(config: Config, code: string): string {
  return serialize(REFERRAL_COOKIE, code, {
    ...cookieBase(config),
    maxAge: REFERRAL_COOKIE_SECONDS,
  });
}

export function clearedReferralCookie(config: Config): string {
  return serialize(REFERRAL_COOKIE, "", { ...cookieBase(config), maxAge: 0 });
}

export function signInBrowserCookie(config: Config, nonce: string): string {
  return serialize(SIGN_IN_BROWSER_COOKIE, nonce, {
    ...cookieBase(config),
    maxAge: SIGN_IN_LINK_MINUTES * 60,
  });
}

export function clearedSignInBrowserCookie(config: Config): string {
  return serialize(SIGN_IN_BROWSER_COOKIE, "", { ...cookieBase(config), maxAge: 0 });
}
