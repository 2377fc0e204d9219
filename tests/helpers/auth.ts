/** Signing in through the real HTTP flow, for tests that need a signed-in person. */
import assert from "node:assert/strict";
import type { TestApp } from "./app.ts";

/** `name=value` of a cookie the response sets, or null. */
export function cookieFrom(response: Response, name: string): string | null {
  for (const header of response.headers.getSetCookie()) {
    const [pair] = header.split(";");
    if (pair.startsWith(`${name}=`)) return pair;
  }
  return null;
}

/** The sign-in URL most recently "emailed" to `email` by the log transport. */
export function lastSignInLink(app: TestApp, email: string): string {
  const sent = app.logs.records("auth.magic_link").filter((r) => r.to === email.toLowerCase());
  assert.ok(sent.length > 0, `no sign-in link was sent to ${email}`);
  return String(sent.at(-1)!.url);
}

/**
 * Request a link through the JSON API from one browser (`cookie` plus the sign-in nonce the
 * request sets), open it there, press "Continue signing in", and return the session cookie.
 */
export async function signIn(
  app: TestApp,
  email: string,
  options: { cookie?: string; next?: string; acceptInvitation?: boolean } = {},
): Promise<{ cookie: string; location: string }> {
  const asked = await app.fetch("/api/auth/login", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(options.cookie ? { cookie: options.cookie } : {}),
    },
    body: JSON.stringify({ email, next: options.next }),
  });
  assert.equal(asked.status, 202, await asked.text());
  const browser = [options.cookie, cookieFrom(asked, "rm_signin")].filter(Boolean).join("; ");
  const link = new URL(lastSignInLink(app, email));
  const shown = await app.fetch(`${link.pathname}${link.search}`, {
    headers: { cookie: browser },
  });
  assert.equal(shown.status, 200, "the link shows the continue page");
  assert.match(await shown.text(), /Continue signing in/);
  const verified = await continueSignIn(app, link, {
    cookie: browser,
    acceptInvitation: options.acceptInvitation ?? true,
  });
  assert.equal(verified.status, 303, await verified.text());
  const cookie = cookieFrom(verified, "rm_session");
  assert.ok(cookie, "continuing sets the session cookie");
  return { cookie, location: verified.headers.get("location")! };
}

/** The continue page's POST, as the browser sends it (same origin, a form body). */
export async function continueSignIn(
  app: TestApp,
  link: URL | string,
  options: { cookie?: string; acceptInvitation?: boolean; origin?: string } = {},
): Promise<Response> {
  const token = new URL(link).searchParams.get("token") ?? "";
  const form = new URLSearchParams({ token });
  if (options.acceptInvitation) form.set("accept_invitation", "yes");
  return await app.fetch("/auth/verify", {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      origin: options.origin ?? new URL(app.config.siteUrl).origin,
      ...(options.cookie ? { cookie: options.cookie } : {}),
    },
    body: form,
  });
}

/** Headers for a same-origin, cookie-authenticated JSON request. */
export function sessionHeaders(cookie: string, origin = "http://localhost:8000"): HeadersInit {
  return { cookie, origin, "content-type": "application/json" };
}
