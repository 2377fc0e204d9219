import assert from "node:assert/strict";
import { Hono } from "hono";
import { createTestApp } from "../helpers/app.ts";
import { sessionHeaders, signIn } from "../helpers/auth.ts";
import { requireSignedInPage } from "../../lib/http/guards.ts";
import { mountRoutes, NO_ISLAND_ASSETS } from "../../lib/web/mod.ts";

const ADMIN_TOKEN = "admin-token-for-tests-0123456789abcdef";

Deno.test("the admin token: right, wrong and missing", async () => {
  const app = await createTestApp({ env: { ADMIN_TOKEN } });
  try {
    const me = (headers: HeadersInit) => app.fetch("/api/auth/me", { headers });
    const right = await me({ authorization: `Bearer ${ADMIN_TOKEN}` });
    assert.equal(right.status, 200);
    assert.deepEqual(await right.json(), { kind: "admin" });

    for (
      const authorization of [
        `Bearer ${ADMIN_TOKEN}x`,
        "Bearer nope",
        `Basic ${ADMIN_TOKEN}`,
        "Bearer",
      ]
    ) {
      const wrong = await me({ authorization });
      assert.equal(wrong.status, 401, authorization);
      assert.deepEqual(await wrong.json(), {
        error: "unauthorized",
        message: "The Authorization header does not carry a valid admin token",
      });
    }
    const missing = await me({});
    assert.equal(missing.status, 401);
    assert.deepEqual(await missing.json(), {
      error: "unauthorized",
      message: "Sign in to continue",
    });
  } finally {
    await app.close();
  }
});

Deno.test("without ADMIN_TOKEN configured, no bearer token is ever admin", async () => {
  const app = await createTestApp();
  try {
    const response = await app.fetch("/api/auth/me", { headers: { authorization: "Bearer " } });
    assert.equal(response.status, 401);
    await response.body?.cancel();
  } finally {
    await app.close();
  }
});

Deno.test("cross-site state changes are refused; same-origin and cookie-less ones pass", async () => {
  const app = await createTestApp();
  try {
    const { cookie } = await signIn(app, "victim@example.com");
    const logout = (headers: HeadersInit) =>
      app.fetch("/api/auth/logout", { method: "POST", headers });

    const refused: HeadersInit[] = [
      { cookie, origin: "https://evil.example" },
      { cookie, origin: "null" },
      { cookie, "sec-fetch-site": "cross-site" },
      { cookie }, // a cookie but no proof of origin
    ];
    for (const headers of refused) {
      const response = await logout(headers);
      assert.equal(response.status, 403, JSON.stringify(headers));
      assert.deepEqual(await response.json(), {
        error: "cross_site_request",
        message: "Cross-site requests are not allowed",
      });
    }
    const stillIn = await app.fetch("/api/auth/me", { headers: { cookie } });
    assert.equal(stillIn.status, 200, "the session survived every forged request");
    await stillIn.body?.cancel();

    const formFromElsewhere = await app.fetch("/login", {
      method: "POST",
      headers: {
        origin: "https://evil.example",
        "content-type": "application/x-www-form-urlencoded",
      },
      body: "email=victim%40example.com",
    });
    assert.equal(formFromElsewhere.status, 403);
    await formFromElsewhere.body?.cancel();

    const withheldOrigin = await app.fetch("/api/auth/me", { headers: { cookie } });
    assert.equal(withheldOrigin.status, 200);
    await withheldOrigin.body?.cancel();
    const sameOrigin = await logout({ cookie, origin: "null", "sec-fetch-site": "same-origin" });
    assert.equal(sameOrigin.status, 200);
    await sameOrigin.body?.cancel();
    const noCookie = await app.fetch("/api/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "client@example.com" }),
    });
    assert.equal(noCookie.status, 202, "non-browser clients without cookies are not CSRF");
    await noCookie.body?.cancel();
    const ownOrigin = await logout(
      sessionHeaders((await signIn(app, "victim@example.com")).cookie),
    );
    assert.equal(ownOrigin.status, 200);
    await ownOrigin.body?.cancel();
  } finally {
    await app.close();
  }
});

Deno.test("pages that need a signed-in person send visitors to sign in and back", async () => {
  const app = new Hono();
  let user: { email: string } | null = null;
  mountRoutes(app, {
    manifest: {
      routes: {
        "./routes/(account)/_middleware.ts": { handler: requireSignedInPage },
        "./routes/(account)/settings.tsx": { default: () => <p>settings</p> },
      },
      islands: {},
    },
    assets: NO_ISLAND_ASSETS,
    state: () => ({ user }),
    onServerError: (error) => {
      throw error;
    },
  });
  const visitor = await app.request("/settings?tab=billing");
  assert.equal(visitor.status, 303);
  assert.equal(visitor.headers.get("location"), "/login?next=%2Fsettings%3Ftab%3Dbilling");
  user = { email: "in@example.com" };
  assert.equal(await (await app.request("/settings")).text(), "<!DOCTYPE html><p>settings</p>");
});
