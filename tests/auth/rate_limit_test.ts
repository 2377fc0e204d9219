import assert from "node:assert/strict";
import { createTestApp } from "../helpers/app.ts";
import { MINUTE, testClock } from "../helpers/clock.ts";
import { createTestDatabase } from "../helpers/db.ts";

const ask = (email: string, headers: HeadersInit = {}): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json", ...headers },
  body: JSON.stringify({ email }),
});

Deno.test("sign-in requests are limited per email, with Retry-After, and the window slides", async () => {
  const clock = testClock(new Date("2026-05-01T12:00:00Z"));
  const app = await createTestApp({ now: clock.now });
  try {
    for (let i = 0; i < 5; i++) {
      const ok = await app.fetch("/api/auth/login", ask("Busy@example.com"));
      assert.equal(ok.status, 202);
      await ok.body?.cancel();
      clock.advance(MINUTE);
    }
    const limited = await app.fetch("/api/auth/login", ask("busy@example.com"));
    assert.equal(limited.status, 429);
    // The first of the five requests leaves the 15-minute window 10 minutes from now.
    assert.equal(limited.headers.get("retry-after"), String(10 * 60));
    const body = await limited.json();
    assert.equal(body.error, "rate_limited");
    assert.match(body.message, /try again in 600 seconds/);
    assert.equal(app.logs.records("auth.magic_link").length, 5, "no link for the refused request");

    const other = await app.fetch("/api/auth/login", ask("other@example.com"));
    assert.equal(other.status, 202, "another address is not affected");
    await other.body?.cancel();

    const form = await app.fetch("/login", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "email=busy%40example.com",
    });
    assert.equal(form.status, 429, "the form shares the limit");
    assert.ok(form.headers.get("retry-after"));
    assert.match(await form.text(), /Too many sign-in requests/);

    clock.advance(10 * MINUTE);
    const later = await app.fetch("/api/auth/login", ask("busy@example.com"));
    assert.equal(later.status, 202, "allowed again once the oldest request left the window");
    await later.body?.cancel();
  } finally {
    await app.close();
  }
});

Deno.test("the per-IP limit uses the socket address unless a trusted proxy is configured", async () => {
  const db = await createTestDatabase();
  const direct = await createTestApp({ db, env: { SIGNIN_LIMIT_PER_IP: "3" } });
  const proxied = await createTestApp({
    db,
    env: { SIGNIN_LIMIT_PER_IP: "3", TRUSTED_PROXIES: "1" },
  });
  try {
    // Without a trusted proxy, a forged X-Forwarded-For changes nothing: all from 127.0.0.1.
    const statuses = [];
    for (let i = 0; i < 4; i++) {
      const response = await direct.fetch(
        "/api/auth/login",
        ask(`ip${i}@example.com`, { "x-forwarded-for": `10.0.0.${i}` }),
      );
      statuses.push(response.status);
      await response.body?.cancel();
    }
    assert.deepEqual(statuses, [202, 202, 202, 429]);

    // Behind one proxy, the address it appended is the client; the client's own entries are not.
    const viaProxy = async (forwardedFor: string, email: string) => {
      const response = await proxied.fetch(
        "/api/auth/login",
        ask(email, { "x-forwarded-for": forwardedFor }),
      );
      await response.body?.cancel();
      return response.status;
    };
    assert.equal(await viaProxy("203.0.113.9", "p1@example.com"), 202);
    assert.equal(await viaProxy("1.1.1.1, 203.0.113.9", "p2@example.com"), 202);
    assert.equal(await viaProxy("2.2.2.2, 203.0.113.9", "p3@example.com"), 202);
    assert.equal(await viaProxy("203.0.113.9", "p4@example.com"), 429);
    assert.equal(await viaProxy("198.51.100.7", "p5@example.com"), 202);
  } finally {
    await direct.close();
    await proxied.close();
    await db.close();
  }
});

Deno.test("instances sharing a database share the limit", async () => {
  const db = await createTestDatabase();
  const instances = await Promise.all([1, 2, 3].map(() => createTestApp({ db })));
  try {
    const statuses = await Promise.all(
      Array.from(
        { length: 9 },
        (_, i) =>
          instances[i % 3].fetch("/api/auth/login", ask("shared@example.com")).then(async (r) => {
            await r.body?.cancel();
            return r.status;
          }),
      ),
    );
    assert.equal(statuses.filter((s) => s === 202).length, 5);
    assert.equal(statuses.filter((s) => s === 429).length, 4);
  } finally {
    await Promise.all(instances.map((app) => app.close()));
    await db.close();
  }
});
