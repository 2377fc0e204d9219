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

/** Request a link through the JSON API, follow it, and return the session cookie. */
export async function signIn(
  app: TestApp,
  email: string,
  options: { cookie?: string; next?: string } = {},
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
  const link = new URL(lastSignInLink(app, email));
  const verified = await app.fetch(`${link.pathname}${link.search}`, {
    headers: options.cookie ? { cookie: options.cookie } : {},
  });
  assert.equal(verified.status, 303, await verified.text());
  const cookie = cookieFrom(verified, "rm_session");
  assert.ok(cookie, "the verify step sets the session cookie");
  return { cookie, location: verified.headers.get("location")! };
}

/** Headers for a same-origin, cookie-authenticated JSON request. */
export function sessionHeaders(cookie: string, origin = "http://localhost:8000"): HeadersInit {
  return { cookie, origin, "content-type": "application/json" };
}
