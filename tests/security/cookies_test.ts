/**
 * Every cookie this site sets or clears is HttpOnly, SameSite=Lax and Path=/, and Secure in
 * production — checked on the Set-Cookie headers real requests get, in both environments.
 */
import assert from "node:assert/strict";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { continueSignIn, cookieFrom } from "../helpers/auth.ts";
import { startSmtpSink } from "../helpers/smtp.ts";
import { createUser } from "../helpers/users.ts";

const PRODUCTION_SITE = "https://read.example";

function attributes(header: string): Map<string, string> {
  const [, ...parts] = header.split(";").map((part) => part.trim());
  return new Map(parts.map((part) => {
    const [name, value = ""] = part.split("=");
    return [name.toLowerCase(), value];
  }));
}

/** Every Set-Cookie of `response`, with the flags checked; returns them by cookie name. */
function checkedCookies(response: Response, secure: boolean, label: string) {
  const byName = new Map<string, string>();
  for (const header of response.headers.getSetCookie()) {
    const name = header.slice(0, header.indexOf("="));
    const flags = attributes(header);
    assert.ok(flags.has("httponly"), `${label}: ${name} is HttpOnly`);
    assert.equal(flags.get("samesite"), "Lax", `${label}: ${name} SameSite`);
    assert.equal(flags.get("path"), "/", `${label}: ${name} Path`);
    assert.equal(flags.has("secure"), secure, `${label}: ${name} Secure=${secure}`);
    assert.ok(!flags.has("domain"), `${label}: ${name} stays on this host`);
    byName.set(name, header);
  }
  return byName;
}

/** Sign in, follow the link, use a referral link and sign out, checking every cookie on the way. */
async function walkThrough(
  app: TestApp,
  options: { secure: boolean; origin: string; link: (email: string) => Promise<string> },
) {
  const { secure, origin } = options;
  const friend = await createUser(app.db.sql);
  const referred = await app.fetch(`/r/${friend.referralCode}`);
  assert.equal(referred.status, 303);
  const ref = checkedCookies(referred, secure, "/r/:code").get("rm_ref");
  assert.ok(ref, "the referral cookie is set");
  assert.equal(attributes(ref).get("max-age"), String(30 * 24 * 3600));
  const viaQuery = await app.fetch(`/pricing?ref=${friend.referralCode}`);
  assert.ok(checkedCookies(viaQuery, secure, "?ref=").has("rm_ref"));

  const refCookie = cookieFrom(referred, "rm_ref")!;
  const asked = await app.fetch("/api/auth/login", {
    method: "POST",
    headers: { "content-type": "application/json", cookie: refCookie, origin },
    body: JSON.stringify({ email: "cookie@example.com" }),
  });
  assert.equal(asked.status, 202);
  const nonce = checkedCookies(asked, secure, "sign-in request").get("rm_signin");
  assert.ok(nonce, "the asking browser is marked");
  assert.equal(attributes(nonce).get("max-age"), String(15 * 60));
  const link = new URL(await options.link("cookie@example.com"));
  const browser = `${refCookie}; ${cookieFrom(asked, "rm_signin")}`;
  const verified = await continueSignIn(app, link, { cookie: browser, origin });
  assert.equal(verified.status, 303);
  const set = checkedCookies(verified, secure, "verify");
  assert.equal(attributes(set.get("rm_session")!).get("max-age"), String(30 * 24 * 3600));
  assert.equal(attributes(set.get("rm_ref")!).get("max-age"), "0", "the used referral is cleared");
  assert.equal(attributes(set.get("rm_signin")!).get("max-age"), "0", "and the spent nonce");

  const session = cookieFrom(verified, "rm_session")!;
  const out = await app.fetch("/api/auth/logout", {
    method: "POST",
    headers: { cookie: session, origin },
  });
  assert.equal(out.status, 200);
  assert.equal(
    attributes(checkedCookies(out, secure, "logout").get("rm_session")!).get("max-age"),
    "0",
  );
}

Deno.test("cookies in development: HttpOnly, SameSite=Lax, Path=/, not Secure", async () => {
  const app = await createTestApp();
  try {
    await walkThrough(app, {
      secure: false,
      origin: "http://localhost:8000",
      link: (email) => {
        const sent = app.logs.records("auth.magic_link").filter((r) => r.to === email);
        return Promise.resolve(String(sent.at(-1)!.url));
      },
    });
  } finally {
    await app.close();
  }
});

Deno.test("cookies in production: the same flags, and Secure", async () => {
  const sink = await startSmtpSink();
  const app = await createTestApp({
    env: {
      APP_ENV: "production",
      SITE_URL: PRODUCTION_SITE,
      DATABASE_URL: "postgres://app@db.internal/read",
      STRIPE_API_KEY: "sk_live_cookies",
      STRIPE_WEBHOOK_SECRET: "whsec_cookies",
      STRIPE_PRICE_MONTHLY: "price_monthly",
      STRIPE_PRICE_ANNUAL: "price_annual",
      ADMIN_TOKEN: "admin-token-for-cookie-tests-0123456789",
      EMAIL_TRANSPORT: "smtp",
      SMTP_URL: sink.url,
    },
  });
  try {
    await walkThrough(app, {
      secure: true,
      origin: PRODUCTION_SITE,
      link: () => {
        const body = sink.messages.at(-1)!.data.replaceAll("=\r\n", "").replaceAll("=3D", "=");
        return Promise.resolve(
          body.match(/https:\/\/read\.example\/auth\/verify\?token=[\w-]+/)![0],
        );
      },
    });
    const page = await app.fetch("/");
    assert.match(page.headers.get("strict-transport-security") ?? "", /max-age=\d+/);
    await page.body?.cancel();
  } finally {
    await app.close();
    await sink.close();
  }
});
