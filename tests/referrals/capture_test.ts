import assert from "node:assert/strict";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { continueSignIn, cookieFrom, lastSignInLink, signIn } from "../helpers/auth.ts";

const BANNER = "Invited by a friend: get 45 days of paid access when you subscribe";

async function referralCodeOf(app: TestApp, email: string): Promise<string> {
  const [row] = await app.db.sql`select referral_code from users where email = ${email}`;
  return row.referralCode;
}

async function referralsOf(app: TestApp) {
  return await app.db.sql`
    select referrer.email as referrer, referred.email as referred, r.code
    from referrals r
    left join users referrer on referrer.id = r.referrer_id
    join users referred on referred.id = r.referred_user_id
    order by r.id`;
}

Deno.test("referral capture", async (t) => {
  const app = await createTestApp();
  try {
    await signIn(app, "alice@example.com");
    await signIn(app, "bob@example.com");
    const alice = await referralCodeOf(app, "alice@example.com");
    const bob = await referralCodeOf(app, "bob@example.com");

    await t.step(
      "a referral link remembers the code for 30 days and shows the banner",
      async () => {
        const visit = await app.fetch(`/r/${alice}`);
        assert.equal(visit.status, 303);
        assert.equal(visit.headers.get("location"), "/");
        const setCookie = visit.headers.getSetCookie().find((c) => c.startsWith("rm_ref="))!;
        assert.match(
          setCookie,
          new RegExp(`^rm_ref=${alice}; Max-Age=2592000; Path=/; HttpOnly; SameSite=Lax`),
        );
        const home = await app.fetch("/", { headers: { cookie: cookieFrom(visit, "rm_ref")! } });
        assert.ok((await home.text()).includes(BANNER));
        assert.ok(
          !(await (await app.fetch("/")).text()).includes(BANNER),
          "no banner without the cookie",
        );
      },
    );

    await t.step("first sign-in with the code records who referred whom", async () => {
      const cookie = cookieFrom(await app.fetch(`/r/${alice}`), "rm_ref")!;
      const { cookie: session } = await signIn(app, "carol@example.com", { cookie });
      assert.deepEqual(
        (await referralsOf(app)).map((r) => [r.referrer, r.referred, r.code]),
        [["alice@example.com", "carol@example.com", alice]],
      );
      const home = await (await app.fetch("/", { headers: { cookie: `${session}; ${cookie}` } }))
        .text();
      assert.ok(!home.includes(BANNER), "signed-in people no longer see the invitation");
    });

    await t.step("?ref=CODE on any page works the same and cleans the URL", async () => {
      const visit = await app.fetch(`/referrals?ref=${bob}&x=1`);
      assert.equal(visit.status, 303);
      assert.equal(visit.headers.get("location"), "/referrals?x=1");
      const cookie = cookieFrom(visit, "rm_ref")!;
      assert.equal(cookie, `rm_ref=${bob}`);
      await signIn(app, "dave@example.com", { cookie });
      assert.equal((await referralsOf(app)).at(-1)!.referrer, "bob@example.com");
    });

    await t.step("unknown codes store nothing and are not errors", async () => {
      for (const path of ["/r/NoSuchCode123", "/r/x", "/r/%3Cscript%3E", "/?ref=NoSuchCode123"]) {
        const visit = await app.fetch(path);
        assert.equal(visit.status, 303, path);
        assert.equal(cookieFrom(visit, "rm_ref"), null, path);
      }
      const before = (await referralsOf(app)).length;
      await signIn(app, "erin@example.com", { cookie: "rm_ref=NoSuchCode123" });
      assert.equal((await referralsOf(app)).length, before, "a forged cookie with an unknown code");
    });

    await t.step("people who already have an account are not referred", async () => {
      const before = (await referralsOf(app)).length;
      await signIn(app, "bob@example.com", { cookie: `rm_ref=${alice}` });
      assert.equal((await referralsOf(app)).length, before);
    });

    await t.step(
      "the code travels with the link: opened in another browser, it counts once the person accepts",
      async () => {
        await app.fetch("/api/auth/login", {
          method: "POST",
          headers: { "content-type": "application/json", cookie: `rm_ref=${alice}` },
          body: JSON.stringify({ email: "frank@example.com" }),
        });
        const link = new URL(lastSignInLink(app, "frank@example.com"));
        const page = await (await app.fetch(link.pathname + link.search)).text(); // no cookie here
        assert.match(page, /You were invited by a friend/);
        assert.doesNotMatch(page, /name="accept_invitation" value="yes" checked/);
        const verified = await continueSignIn(app, link, { acceptInvitation: true });
        assert.equal(verified.status, 303);
        assert.equal((await referralsOf(app)).at(-1)!.referred, "frank@example.com");
        assert.equal((await referralsOf(app)).at(-1)!.referrer, "alice@example.com");
      },
    );

    await t.step(
      "the first referrer wins: the code at request time beats a later cookie",
      async () => {
        await app.fetch("/api/auth/login", {
          method: "POST",
          headers: { "content-type": "application/json", cookie: `rm_ref=${alice}` },
          body: JSON.stringify({ email: "grace@example.com" }),
        });
        const link = new URL(lastSignInLink(app, "grace@example.com"));
        await continueSignIn(app, link, { cookie: `rm_ref=${bob}`, acceptInvitation: true });
        assert.equal((await referralsOf(app)).at(-1)!.referrer, "alice@example.com");
      },
    );

    await t.step(
      "one referral per person, and never of oneself, by the database's own rules",
      async () => {
        const [carol] = await app.db.sql`select id from users where email = 'carol@example.com'`;
        const [bobRow] = await app.db.sql`select id from users where email = 'bob@example.com'`;
        await assert.rejects(
          app.db
            .sql`insert into referrals (referrer_id, referred_user_id, code) values (${bobRow.id}, ${carol.id}, ${bob})`,
          /duplicate key/,
        );
        await assert.rejects(
          app.db
            .sql`insert into referrals (referrer_id, referred_user_id, code) values (${bobRow.id}, ${bobRow.id}, ${bob})`,
          /violates check constraint/,
        );
      },
    );

    await t.step("the sign-in link clears the referral cookie once used", async () => {
      const cookie = cookieFrom(await app.fetch(`/r/${alice}`), "rm_ref")!;
      await app.fetch("/api/auth/login", {
        method: "POST",
        headers: { "content-type": "application/json", cookie },
        body: JSON.stringify({ email: "heidi@example.com" }),
      });
      const link = new URL(lastSignInLink(app, "heidi@example.com"));
      const verified = await continueSignIn(app, link, { cookie, acceptInvitation: true });
      assert.match(verified.headers.getSetCookie().join("\n"), /rm_ref=; Max-Age=0/);
    });
  } finally {
    await app.close();
  }
});

Deno.test("a signed-in person following a referral link gets no referral cookie", async () => {
  const app = await createTestApp();
  try {
    const { cookie } = await signIn(app, "member@example.com");
    const code = await referralCodeOf(app, "member@example.com");
    const visit = await app.fetch(`/r/${code}`, { headers: { cookie } });
    assert.equal(visit.status, 303);
    assert.equal(cookieFrom(visit, "rm_ref"), null);
  } finally {
    await app.close();
  }
});
