/**
 * Security headers on every answer the site gives — pages, API, redirects, errors of every kind,
 * static files and island bundles: a CSP that allows only this site's own scripts and styles and
 * no framing, nosniff, and frame denial for browsers that predate frame-ancestors.
 */
import assert from "node:assert/strict";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { signIn } from "../helpers/auth.ts";
import { unreachableDatabase } from "../helpers/db.ts";
import { MAX_BODY_BYTES } from "../../lib/app.ts";

function assertSecurityHeaders(response: Response, label: string) {
  const csp = response.headers.get("content-security-policy") ?? "";
  const directives = new Map(
    csp.split(";").map((d) => d.trim()).filter(Boolean).map((d) => {
      const [name, ...values] = d.split(/\s+/);
      return [name, values.join(" ")];
    }),
  );
  assert.equal(directives.get("default-src"), "'self'", `${label}: default-src`);
  assert.equal(directives.get("script-src"), "'self'", `${label}: script-src`);
  assert.equal(directives.get("style-src"), "'self'", `${label}: style-src`);
  assert.equal(directives.get("frame-ancestors"), "'none'", `${label}: frame-ancestors`);
  assert.equal(directives.get("object-src"), "'none'", `${label}: object-src`);
  assert.equal(directives.get("base-uri"), "'none'", `${label}: base-uri`);
  assert.equal(directives.get("form-action"), "'self'", `${label}: form-action`);
  assert.equal(response.headers.get("x-frame-options"), "DENY", `${label}: X-Frame-Options`);
  assert.equal(response.headers.get("x-content-type-options"), "nosniff", `${label}: nosniff`);
  assert.ok(response.headers.get("referrer-policy"), `${label}: Referrer-Policy`);
}

async function check(app: TestApp, label: string, path: string, init: RequestInit = {}) {
  const response = await app.fetch(path, init);
  await response.body?.cancel();
  assertSecurityHeaders(response, `${label} (${response.status})`);
  return response.status;
}

Deno.test("every kind of answer carries the security headers", async () => {
  const app = await createTestApp({ payments: "simulator" });
  try {
    const { cookie } = await signIn(app, "headers@example.com");
    const json = (body: unknown, extra: HeadersInit = {}) => ({
      method: "POST",
      headers: { "content-type": "application/json", ...extra },
      body: JSON.stringify(body),
    });
    const html = await (await app.fetch("/referrals")).text();
    const bundle = html.match(/<script type="module" src="([^"]+)"/)![1];

    const statuses = [
      await check(app, "landing page", "/"),
      await check(app, "pricing (an island page)", "/pricing"),
      await check(app, "referrals (an island page)", "/referrals"),
      await check(app, "settings, signed in", "/settings", { headers: { cookie } }),
      await check(app, "settings, signed out (redirect)", "/settings"),
      await check(app, "login page", "/login"),
      await check(app, "a bad sign-in link", "/auth/verify?token=nope"),
      await check(app, "referral link (redirect)", "/r/unknown-code"),
      await check(app, "unknown page", "/nope"),
      await check(app, "HEAD", "/", { method: "HEAD" }),
      await check(app, "wrong method", "/pricing", { method: "PUT" }),
      await check(app, "health", "/healthz"),
      await check(app, "API, who am I", "/api/auth/me", { headers: { cookie } }),
      await check(app, "API, signed out", "/api/auth/me"),
      await check(app, "API, unknown route", "/api/nope"),
      await check(app, "API, bad JSON", "/api/auth/login", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{",
      }),
      await check(app, "API, accepted", "/api/auth/login", json({ email: "h2@example.com" })),
      await check(
        app,
        "API, checkout",
        "/api/stripe/checkout",
        json({ cadence: "annual", reg36Waiver: false }, {
          cookie,
          origin: "http://localhost:8000",
        }),
      ),
      await check(app, "API, cross-site", "/api/auth/logout", json({}, { cookie })),
      await check(app, "API, too large", "/api/auth/login", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "x".repeat(MAX_BODY_BYTES + 1),
      }),
      await check(app, "webhook, unsigned", "/api/stripe/webhook", json({})),
      await check(app, "static file", "/styles.css"),
      await check(app, "island bundle", bundle),
    ];
    assert.deepEqual(
      statuses,
      [
        200,
        200,
        200,
        200,
        303,
        200,
        400,
        303,
        404,
        200,
        405,
        200,
        200,
        401,
        404,
        400,
        202,
        200,
        403,
        413,
        400,
        200,
        200,
      ],
    );
  } finally {
    await app.close();
  }
});

Deno.test("server errors carry the security headers too", async () => {
  const db = unreachableDatabase();
  const app = await createTestApp({ db });
  try {
    // With a session cookie every request needs the database, which is not there.
    const cookie = "rm_session=some-session-token";
    assert.equal(await check(app, "page, database down", "/", { headers: { cookie } }), 500);
    assert.equal(
      await check(app, "API, database down", "/api/auth/me", { headers: { cookie } }),
      500,
    );
    assert.equal(await check(app, "health, database down", "/healthz"), 503);
  } finally {
    await app.close();
    await db.close();
  }
});
