/**
 * Cross-site request forgery: every state-changing route refuses a request another site's page
 * could make — JSON or form, with the victim's cookie or without — and nothing changes.
 */
import assert from "node:assert/strict";
import { createTestApp } from "../helpers/app.ts";
import { signIn } from "../helpers/auth.ts";

const SITE = "http://localhost:8000";

const ROUTES = [
  { path: "/api/auth/login", body: { email: "victim@example.com" } },
  { path: "/api/auth/logout", body: {} },
  { path: "/api/stripe/checkout", body: { cadence: "annual", reg36Waiver: false } },
  { path: "/api/stripe/portal", body: {} },
  { path: "/api/stripe/webhook", body: { id: "evt_forged" } },
  { path: "/login", body: { email: "victim@example.com", next: "/" } },
  { path: "/logout", body: {} },
  { path: "/settings/delete", body: { email: "victim@example.com" } },
];

/** What a page on another site makes the browser send. */
const FOREIGN: Record<string, string>[] = [
  { origin: "https://evil.example" },
  { origin: "null" },
  { origin: `${SITE}.evil.example` },
  { origin: "http://localhost:8001" },
  { origin: SITE.replace("http:", "https:") },
  { "sec-fetch-site": "cross-site" },
  { "sec-fetch-site": "same-site" },
  { origin: "https://evil.example", "sec-fetch-site": "cross-site" },
];

function encode(kind: string, body: Record<string, unknown>): [string, string] {
  switch (kind) {
    case "json":
      return ["application/json", JSON.stringify(body)];
    case "form":
      return [
        "application/x-www-form-urlencoded",
        new URLSearchParams(body as Record<string, string>).toString(),
      ];
    case "multipart":
      return [
        "multipart/form-data; boundary=x",
        `--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--`,
      ];
    default:
      return ["text/plain", JSON.stringify(body)];
  }
}

Deno.test("cross-site POSTs are refused on every state-changing route, cookie or not", async () => {
  const app = await createTestApp({ payments: "simulator" });
  try {
    const { cookie } = await signIn(app, "victim@example.com");
    const [before] = await app.db.sql`
      select (select count(*)::int from login_tokens) as tokens,
             (select count(*)::int from sessions) as sessions`;
    let requests = 0;
    for (const route of ROUTES) {
      for (const kind of ["json", "form", "multipart", "text"]) {
        for (const foreign of FOREIGN) {
          for (const withCookie of [true, false]) {
            const [contentType, body] = encode(kind, route.body);
            const response = await app.fetch(route.path, {
              method: "POST",
              headers: {
                ...foreign,
                "content-type": contentType,
                ...(withCookie ? { cookie } : {}),
              },
              body,
            });
            const label = `${route.path} ${kind} ${JSON.stringify(foreign)} cookie=${withCookie}`;
            assert.equal(response.status, 403, label);
            assert.equal((await response.json()).error, "cross_site_request", label);
            requests += 1;
          }
        }
      }
      // A cookie without any word on where the request came from is not enough either.
      const bare = await app.fetch(route.path, {
        method: "POST",
        headers: { cookie, "content-type": "application/json" },
        body: JSON.stringify(route.body),
      });
      assert.equal(bare.status, 403, `${route.path} with a cookie and no Origin`);
      await bare.body?.cancel();
    }
    for (const method of ["PUT", "PATCH", "DELETE"]) {
      const response = await app.fetch("/api/auth/logout", {
        method,
        headers: { cookie, origin: "https://evil.example" },
      });
      assert.equal(response.status, 403, method);
      await response.body?.cancel();
    }
    assert.equal(requests, ROUTES.length * 4 * FOREIGN.length * 2);

    const [after] = await app.db.sql`
      select (select count(*)::int from login_tokens) as tokens,
             (select count(*)::int from sessions) as sessions,
             (select count(*)::int from consents) as consents,
             (select count(*)::int from stripe_events) as events,
             (select count(*)::int from users where stripe_customer_id is not null) as customers`;
    assert.deepEqual({ ...after }, { ...before, consents: 0, events: 0, customers: 0 });
    const me = await app.fetch("/api/auth/me", { headers: { cookie } });
    assert.equal(me.status, 200, "the session survived every forged request");
    await me.body?.cancel();
  } finally {
    await app.close();
  }
});
