import assert from "node:assert/strict";
import { createTestApp } from "../helpers/app.ts";
import {
  continueSignIn,
  cookieFrom,
  lastSignInLink,
  sessionHeaders,
  signIn,
} from "../helpers/auth.ts";
import { MINUTE, testClock } from "../helpers/clock.ts";
import { safeNextPath } from "../../lib/auth/sign_in.ts";

const json = (body: unknown, headers: HeadersInit = {}): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json", ...headers },
  body: JSON.stringify(body),
});

Deno.test("sign-in by emailed link, end to end over HTTP", async (t) => {
  const clock = testClock(new Date("2026-03-01T09:00:00Z"));
  const app = await createTestApp({ now: clock.now });
  try {
    await t.step(
      "asking for a link answers 202 the same way for new and known emails",
      async () => {
        const first = await app.fetch(
          "/api/auth/login",
          json({ email: "Reader@Example.com", next: "/referrals" }),
        );
        assert.equal(first.status, 202);
        const firstBody = await first.json();
        const link = new URL(lastSignInLink(app, "reader@example.com"));
        assert.equal(link.origin, "http://localhost:8000");
        assert.equal(link.pathname, "/auth/verify");
        assert.match(link.searchParams.get("token")!, /^[\w-]{43}$/);

        await signIn(app, "known@example.com");
        const again = await app.fetch("/api/auth/login", json({ email: "known@example.com" }));
        assert.equal(again.status, 202);
        assert.deepEqual(await again.json(), firstBody);
      },
    );

    await t.step("only the token's hash is stored", async () => {
      const token = new URL(lastSignInLink(app, "reader@example.com")).searchParams.get("token")!;
      const rows = await app.db.sql`select token_hash from login_tokens`;
      assert.ok(rows.every((r) => r.tokenHash !== token && /^[0-9a-f]{64}$/.test(r.tokenHash)));
    });

    await t.step(
      "continuing from the link creates the account, starts a session, goes to next",
      async () => {
        const link = new URL(lastSignInLink(app, "reader@example.com"));
        const shown = await app.fetch(link.pathname + link.search);
        assert.equal(shown.status, 200);
        assert.equal(shown.headers.get("cache-control"), "no-store");
        assert.match(
          await shown.text(),
          /This creates your read.markets account for <strong>reader@example.com<\/strong>/,
        );
        const verified = await continueSignIn(app, link);
        assert.equal(verified.status, 303);
        assert.equal(verified.headers.get("location"), "/referrals");
        const setCookie = verified.headers.getSetCookie().find((c) => c.startsWith("rm_session="))!;
        assert.match(setCookie, /; Max-Age=2592000/);
        assert.match(setCookie, /; Path=\//);
        assert.match(setCookie, /; HttpOnly/);
        assert.match(setCookie, /; SameSite=Lax/);
        assert.doesNotMatch(setCookie, /Secure/, "not Secure outside production");

        const [user] = await app.db.sql`select * from users where email = 'reader@example.com'`;
        assert.equal(user.tier, "free");
        assert.match(user.referralCode, /^[\w-]{16}$/);
        const sessions = await app.db
          .sql`select token_hash from sessions where user_id = ${user.id}`;
        const cookieToken = cookieFrom(verified, "rm_session")!.split("=")[1];
        assert.equal(sessions.length, 1);
        assert.notEqual(sessions[0].tokenHash, cookieToken);

        const home = await app.fetch("/", {
          headers: { cookie: cookieFrom(verified, "rm_session")! },
        });
        assert.match(await home.text(), /Signed in as <strong>reader@example.com<\/strong>/);
        const me = await app.fetch("/api/auth/me", {
          headers: { cookie: cookieFrom(verified, "rm_session")! },
        });
        assert.deepEqual(await me.json(), {
          kind: "user",
          email: "reader@example.com",
          referralCode: user.referralCode,
          paidAccess: false,
        });
      },
    );

    await t.step("a used link says so and offers a new one", async () => {
      const link = new URL(lastSignInLink(app, "reader@example.com"));
      for (
        const reused of [
          await app.fetch(link.pathname + link.search),
          await continueSignIn(app, link),
        ]
      ) {
        assert.equal(reused.status, 410);
        const html = await reused.text();
        assert.match(html, /already been used/);
        assert.match(html, /<form method="post" action="\/login"/);
        assert.equal(cookieFrom(reused, "rm_session"), null);
      }
    });

    await t.step("an expired link says so", async () => {
      await app.fetch("/api/auth/login", json({ email: "late@example.com" }));
      const link = new URL(lastSignInLink(app, "late@example.com"));
      clock.advance(15 * MINUTE + 1000);
      for (
        const late of [
          await app.fetch(link.pathname + link.search),
          await continueSignIn(app, link),
        ]
      ) {
        assert.equal(late.status, 410);
        assert.match(await late.text(), /has expired/);
      }
      const [{ count }] = await app.db
        .sql`select count(*)::int from users where email = 'late@example.com'`;
      assert.equal(count, 0, "no account from an expired link");
    });

    await t.step("an unknown or missing token is refused", async () => {
      for (const path of ["/auth/verify?token=nope", "/auth/verify"]) {
        const response = await app.fetch(path);
        assert.equal(response.status, 400);
        assert.match(await response.text(), /not valid/);
      }
      const posted = await continueSignIn(app, "http://localhost:8000/auth/verify?token=nope");
      assert.equal(posted.status, 400);
    });

    await t.step("a second sign-in reuses the account", async () => {
      const { cookie } = await signIn(app, "READER@example.com");
      const me = await (await app.fetch("/api/auth/me", { headers: { cookie } })).json();
      assert.equal(me.email, "reader@example.com");
      const [{ count }] = await app.db
        .sql`select count(*)::int from users where email = 'reader@example.com'`;
      assert.equal(count, 1);
    });
  } finally {
    await app.close();
  }
});

Deno.test("two clicks on the same link at once: one session, one refusal", async () => {
  const app = await createTestApp();
  try {
    await app.fetch("/api/auth/login", json({ email: "twice@example.com" }));
    const link = new URL(lastSignInLink(app, "twice@example.com"));
    const results = await Promise.all([1, 2, 3].map(() => continueSignIn(app, link)));
    assert.deepEqual(results.map((r) => r.status).sort(), [303, 410, 410]);
    await Promise.all(results.map((r) => r.body?.cancel()));
    const [{ count }] = await app.db.sql`select count(*)::int from sessions`;
    assert.equal(count, 1);
  } finally {
    await app.close();
  }
});

Deno.test("bad sign-in requests get clear errors and store nothing", async () => {
  const app = await createTestApp();
  try {
    const cases: [RequestInit, number, RegExp][] = [
      [json({ email: "not-an-email" }), 400, /Enter a valid email address/],
      [json({ email: "" }), 400, /Enter a valid email address/],
      [json({ email: 42 }), 400, /email: /],
      [json({}), 400, /email: /],
      [
        { method: "POST", headers: { "content-type": "application/json" }, body: "{nope" },
        400,
        /not valid JSON/,
      ],
      [{ method: "POST", headers: { "content-type": "text/plain" }, body: "x" }, 415, /as JSON/],
      [json({ email: `${"a".repeat(70_000)}@example.com` }), 413, /limited to 65536 bytes/],
    ];
    for (const [init, status, message] of cases) {
      const response = await app.fetch("/api/auth/login", init);
      assert.equal(response.status, status, String(init.body).slice(0, 40));
      const body = await response.json();
      assert.equal(typeof body.error, "string");
      assert.match(body.message, message);
    }
    const [{ count }] = await app.db.sql`select count(*)::int from login_tokens`;
    assert.equal(count, 0);
    assert.equal(app.logs.records("auth.magic_link").length, 0);
  } finally {
    await app.close();
  }
});

Deno.test("the sign-in page works without JavaScript", async () => {
  const app = await createTestApp();
  try {
    const form = await (await app.fetch("/login?next=/referrals")).text();
    assert.match(form, /<label for="email">Email address<\/label>/);
    assert.match(form, /<input type="hidden" name="next" value="\/referrals"\/>/);
    assert.ok(!form.includes("<script"));

    const post = (body: Record<string, string>) =>
      app.fetch("/login", {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          origin: "http://localhost:8000",
        },
        body: new URLSearchParams(body),
      });
    const sent = await post({ email: "Form@Example.com", next: "/referrals" });
    assert.equal(sent.status, 200);
    assert.match(await sent.text(), /Check your email/);
    const link = new URL(lastSignInLink(app, "form@example.com"));
    const verified = await continueSignIn(app, link);
    assert.equal(verified.headers.get("location"), "/referrals");

    const invalid = await post({ email: "nope", next: "/" });
    assert.equal(invalid.status, 400);
    const html = await invalid.text();
    assert.match(html, /role="alert">Enter a valid email address/);
    assert.match(html, /value="nope"/, "what was typed is kept");
  } finally {
    await app.close();
  }
});

Deno.test("after sign-in the browser only ever goes to a page of this site", async () => {
  const hostile = [
    "https://evil.example/",
    "//evil.example/path",
    "/\\evil.example",
    "\\\\evil.example",
    "javascript:alert(1)",
    "/%0d%0aLocation:%20https://evil.example",
    "/ok\r\nLocation: https://evil.example",
    "",
  ];
  for (const next of hostile) {
    const safe = safeNextPath(next, "http://localhost:8000");
    assert.ok(
      safe.startsWith("/") && !safe.startsWith("//") && !safe.includes("\n"),
      `${next} → ${safe}`,
    );
    assert.ok(!new URL(safe, "http://localhost:8000").host.includes("evil"), `${next} → ${safe}`);
  }
  assert.equal(
    safeNextPath("/pricing?cadence=annual#plans", "http://localhost:8000"),
    "/pricing?cadence=annual#plans",
  );

  const app = await createTestApp();
  try {
    for (const next of ["https://evil.example/", "//evil.example/x", "/\\evil.example"]) {
      const { location } = await signIn(app, "redirect@example.com", { next });
      assert.equal(location, "/", next);
    }
  } finally {
    await app.close();
  }
});

Deno.test("signing out ends the session and clears the cookie", async () => {
  const app = await createTestApp();
  try {
    const { cookie } = await signIn(app, "leaving@example.com");
    const out = await app.fetch("/api/auth/logout", {
      method: "POST",
      headers: sessionHeaders(cookie),
    });
    assert.equal(out.status, 200);
    assert.deepEqual(await out.json(), { status: "signed_out" });
    assert.match(out.headers.getSetCookie().join(), /rm_session=; Max-Age=0/);
    const [{ count }] = await app.db.sql`select count(*)::int from sessions`;
    assert.equal(count, 0);
    assert.equal((await app.fetch("/api/auth/me", { headers: { cookie } })).status, 401);

    const second = await signIn(app, "leaving@example.com");
    const form = await app.fetch("/logout", {
      method: "POST",
      headers: { cookie: second.cookie, origin: "http://localhost:8000" },
    });
    assert.equal(form.status, 303);
    assert.equal(form.headers.get("location"), "/");
    assert.doesNotMatch(
      await (await app.fetch("/", { headers: { cookie: second.cookie } })).text(),
      /Signed in as/,
    );
  } finally {
    await app.close();
  }
});

Deno.test("production cookies are Secure", async () => {
  const { sessionCookie } = await import("../../lib/http/cookies.ts");
  const app = await createTestApp();
  try {
    const production = { ...app.config, appEnv: "production" as const };
    assert.match(sessionCookie(production, "t"), /; Secure/);
  } finally {
    await app.close();
  }
});
