import assert from "node:assert/strict";
import { createTestApp } from "../helpers/app.ts";
import { MINUTE, testClock } from "../helpers/clock.ts";
import { createTestDatabase } from "../helpers/db.ts";

const ask = (email: string, headers: HeadersInit = {}): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json", ...headers },
  body: JSON.stringify({ email }),
});

Deno.test("sign-in mail to one address slows its sender's network, not the person", async () => {
  const clock = testClock(new Date("2026-05-01T12:00:00Z"));
  // Behind one trusted proxy, so the test can speak from different client networks.
  const app = await createTestApp({ now: clock.now, env: { TRUSTED_PROXIES: "1" } });
  const attacker = { "x-forwarded-for": "203.0.113.66" };
  const attackerNeighbour = { "x-forwarded-for": "203.0.113.67" };
  const victim = { "x-forwarded-for": "198.51.100.20" };
  const mailsTo = (email: string) =>
    app.logs.records("auth.magic_link").filter((r) => r.to === email).length;
  try {
    const answers: { status: number; body: { message: string } }[] = [];
    for (let i = 0; i < 7; i++) {
      const response = await app.fetch(
        "/api/auth/login",
        ask("Victim@example.com", i % 2 ? attacker : attackerNeighbour),
      );
      answers.push({ status: response.status, body: await response.json() });
      clock.advance(MINUTE);
    }
    assert.ok(answers.every((a) => a.status === 202), "past the limit the answer is unchanged");
    assert.ok(answers.every((a) => a.body.message === answers[0].body.message));
    assert.equal(mailsTo("victim@example.com"), 5, "but mail stops for that network");
    assert.equal(app.logs.records("auth.sign_in_mail_held").length, 2);
    assert.equal(app.logs.records("auth.sign_in_mail_held")[0].network, "203.0.113.0/24");

    const own = await app.fetch("/api/auth/login", ask("victim@example.com", victim));
    assert.equal(own.status, 202);
    await own.body?.cancel();
    assert.equal(mailsTo("victim@example.com"), 6, "the person's own request gets its link");

    const form = await app.fetch("/login", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", ...attacker },
      body: "email=victim%40example.com",
    });
    assert.equal(form.status, 200, "the form answers as usual too");
    assert.match(await form.text(), /Check your email/);
    assert.equal(mailsTo("victim@example.com"), 6);

    // The first of the five sent requests leaves the 15-minute window 8 minutes from now.
    clock.advance(8 * MINUTE);
    const later = await app.fetch("/api/auth/login", ask("victim@example.com", attacker));
    assert.equal(later.status, 202);
    await later.body?.cancel();
    assert.equal(mailsTo("victim@example.com"), 7, "mail resumes once the window slides");
  } finally {
    await app.close();
  }
});

Deno.test("too many requests from one IP are refused with Retry-After", async () => {
  const clock = testClock(new Date("2026-05-01T12:00:00Z"));
  const app = await createTestApp({ now: clock.now, env: { SIGNIN_LIMIT_PER_IP: "4" } });
  try {
    for (let i = 0; i < 4; i++) {
      const ok = await app.fetch("/api/auth/login", ask(`reader${i}@example.com`));
      assert.equal(ok.status, 202);
      await ok.body?.cancel();
      clock.advance(MINUTE);
    }
    const limited = await app.fetch("/api/auth/login", ask("reader9@example.com"));
    assert.equal(limited.status, 429);
    // The first of the four requests leaves the 15-minute window 11 minutes from now.
    assert.equal(limited.headers.get("retry-after"), String(11 * 60));
    const body = await limited.json();
    assert.equal(body.error, "rate_limited");
    assert.match(body.message, /try again in 660 seconds/);
    assert.equal(app.logs.records("auth.magic_link").length, 4, "no link for the refused request");

    const form = await app.fetch("/login", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "email=reader9%40example.com",
    });
    assert.equal(form.status, 429, "the form shares the limit");
    assert.ok(form.headers.get("retry-after"));
    assert.match(await form.text(), /Too many sign-in requests/);
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
    assert.ok(statuses.every((s) => s === 202));
    const sent = instances.flatMap((app) => app.logs.records("auth.magic_link"));
    assert.equal(sent.length, 5, "five links in all, whichever instance answered");
  } finally {
    await Promise.all(instances.map((app) => app.close()));
    await db.close();
  }
});
