/**
 * The "Continue signing in" page: links survive mail scanners, a link opened in someone else's
 * browser cannot switch that browser's account, and an invitation counts only when accepted.
 */
import assert from "node:assert/strict";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { continueSignIn, cookieFrom, lastSignInLink, signIn } from "../helpers/auth.ts";
import { referralsOf } from "../helpers/users.ts";

/** Ask for a link from a browser holding `cookie`; the link and that browser's cookies after. */
async function askForLink(app: TestApp, email: string, cookie = "") {
  const asked = await app.fetch("/api/auth/login", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      origin: new URL(app.config.siteUrl).origin,
      ...(cookie ? { cookie } : {}),
    },
    body: JSON.stringify({ email }),
  });
  assert.equal(asked.status, 202);
  const browser = [cookie, cookieFrom(asked, "rm_signin")].filter(Boolean).join("; ");
  return { link: new URL(lastSignInLink(app, email)), browser };
}

/** The props the continue page gives its island, as the browser would hydrate them. */
function continueProps(
  html: string,
): { auto: boolean; acceptInvitation: boolean; invited: boolean } {
  const match = /data-island="ContinueSignIn" data-props="([^"]*)"/.exec(html);
  assert.ok(match, "the page carries the continue button");
  return JSON.parse(match[1].replaceAll("&quot;", '"').replaceAll("&amp;", "&"));
}

async function linkUsed(app: TestApp, email: string): Promise<boolean> {
  const rows = await app.db.sql`
    select used_at from login_tokens where email = ${email} order by id desc limit 1`;
  return rows[0].usedAt !== null;
}

async function whoIs(app: TestApp, cookie: string): Promise<string | null> {
  const me = await app.fetch("/api/auth/me", { headers: { cookie } });
  return me.status === 200 ? (await me.json()).email : null;
}

Deno.test("a mail scanner opening the link uses nothing up", async () => {
  const app = await createTestApp();
  try {
    const { link, browser } = await askForLink(app, "scanned@example.com");
    const scanner = { "user-agent": "Mozilla/5.0 (compatible; SafeLinks scanner)" };
    const head = await app.fetch(link.pathname + link.search, { method: "HEAD", headers: scanner });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), "");
    const get = await app.fetch(link.pathname + link.search, { headers: scanner });
    assert.equal(get.status, 200);
    const html = await get.text();
    assert.match(html, /<h1>Continue signing in<\/h1>/);
    assert.match(html, /opened somewhere other than the browser that asked for it/);
    assert.equal(continueProps(html).auto, false, "a scanner's copy never continues by itself");
    assert.equal(cookieFrom(get, "rm_session"), null);
    assert.equal(await linkUsed(app, "scanned@example.com"), false);
    const [{ count }] = await app.db.sql`select count(*)::int from users`;
    assert.equal(count, 0, "no account either");

    // The person's own click afterwards: their browser continues by itself, and it works.
    const own = await app.fetch(link.pathname + link.search, { headers: { cookie: browser } });
    assert.equal(continueProps(await own.text()).auto, true);
    const continued = await continueSignIn(app, link, { cookie: browser });
    assert.equal(continued.status, 303);
    assert.equal(await whoIs(app, cookieFrom(continued, "rm_session")!), "scanned@example.com");
    assert.match(continued.headers.getSetCookie().join("\n"), /rm_signin=; Max-Age=0/);
  } finally {
    await app.close();
  }
});

Deno.test("an attacker's link opened in someone's browser cannot switch its account", async () => {
  const app = await createTestApp();
  try {
    const { cookie: victim } = await signIn(app, "victim@example.com");
    const { link } = await askForLink(app, "attacker@example.com");

    // A cross-site navigation to the link (a page, an email, an image) lands on the page only.
    const landed = await app.fetch(link.pathname + link.search, {
      headers: { cookie: victim, "sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate" },
    });
    assert.equal(landed.status, 200);
    const html = await landed.text();
    assert.match(html, /This browser is signed in as <strong>victim@example.com<\/strong>/);
    assert.match(html, /into <strong>attacker@example.com<\/strong> instead/);
    assert.equal(continueProps(html).auto, false);
    assert.equal(await whoIs(app, victim), "victim@example.com");

    // Nor can another site submit the form: the POST is refused, with or without a session.
    for (const cookie of [victim, undefined]) {
      const forged = await continueSignIn(app, link, { cookie, origin: "https://evil.example" });
      assert.equal(forged.status, 403);
      assert.equal(cookieFrom(forged, "rm_session"), null);
    }
    assert.equal(await linkUsed(app, "attacker@example.com"), false);
    assert.equal(await whoIs(app, victim), "victim@example.com");
  } finally {
    await app.close();
  }
});

Deno.test("continuing as someone else ends the session the browser had", async () => {
  const app = await createTestApp();
  try {
    const { cookie: first } = await signIn(app, "first@example.com");
    const { link } = await askForLink(app, "second@example.com", first);
    const continued = await continueSignIn(app, link, { cookie: first });
    assert.equal(continued.status, 303);
    assert.equal(await whoIs(app, first), null, "the old session is over");
    assert.equal(await whoIs(app, cookieFrom(continued, "rm_session")!), "second@example.com");
  } finally {
    await app.close();
  }
});

Deno.test("a referral planted in an unsolicited link records nothing unless accepted", async () => {
  const app = await createTestApp();
  try {
    await signIn(app, "planter@example.com");
    const [{ referralCode }] = await app.db
      .sql`select referral_code from users where email = 'planter@example.com'`;
    // The planter's browser carries their own referral cookie and asks for a stranger's link.
    const planted = await askForLink(app, "stranger@example.com", `rm_ref=${referralCode}`);

    // The stranger opens the unsolicited email in their own browser.
    const html = await (await app.fetch(planted.link.pathname + planted.link.search)).text();
    assert.match(html, /You were invited by a friend/);
    const props = continueProps(html);
    assert.equal(props.invited, true);
    assert.equal(props.acceptInvitation, false, "the box starts unticked away from the asker");
    assert.equal(props.auto, false);
    const continued = await continueSignIn(app, planted.link);
    assert.equal(continued.status, 303);
    assert.equal(await referralsOf(app.db.sql, "stranger@example.com"), 0);

    // The referral cookie in the stranger's own later visit changes nothing either.
    const again = await askForLink(app, "stranger@example.com");
    await continueSignIn(app, again.link, {
      cookie: `rm_ref=${referralCode}`,
      acceptInvitation: true,
    });
    assert.equal(
      await referralsOf(app.db.sql, "stranger@example.com"),
      0,
      "existing accounts are not referred",
    );

    // Someone who asks from their own browser, with the cookie from their own click, is invited
    // with the box ticked, and their browser continues by itself.
    const own = await askForLink(app, "friend@example.com", `rm_ref=${referralCode}`);
    const ownProps = continueProps(
      await (await app.fetch(own.link.pathname + own.link.search, {
        headers: { cookie: own.browser },
      })).text(),
    );
    assert.deepEqual(ownProps, { ...ownProps, invited: true, acceptInvitation: true, auto: true });
    await continueSignIn(app, own.link, { cookie: own.browser, acceptInvitation: true });
    assert.equal(await referralsOf(app.db.sql, "friend@example.com"), 1);
  } finally {
    await app.close();
  }
});
