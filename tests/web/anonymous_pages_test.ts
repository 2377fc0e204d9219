/**
 * Anonymous pages come from memory with a strong ETag, and nothing personal ever gets into the
 * copy: not a signed-in header, not a payment banner, not an invitation banner.
 */
import assert from "node:assert/strict";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { cookieFrom, signIn } from "../helpers/auth.ts";

const BANNER = "Invited by a friend";

async function get(app: TestApp, path: string, headers: HeadersInit = {}) {
  const response = await app.fetch(path, { headers });
  return { response, html: await response.text() };
}

Deno.test("anonymous pages: one copy, a strong ETag, 304 on If-None-Match, HEAD", async () => {
  const app = await createTestApp({ payments: "simulator" });
  try {
    for (const path of ["/", "/pricing", "/referrals"]) {
      const first = await get(app, path);
      assert.equal(first.response.status, 200);
      const etag = first.response.headers.get("etag")!;
      assert.match(etag, /^"[0-9a-f]{32}"$/, `${path}: a strong ETag`);
      assert.equal(
        first.response.headers.get("cache-control"),
        "public, max-age=0, must-revalidate, s-maxage=60",
      );
      assert.equal(first.response.headers.get("vary"), "Cookie");
      assert.ok(first.response.headers.get("content-security-policy"), "security headers stay");

      const second = await get(app, path);
      assert.equal(second.response.headers.get("etag"), etag);
      assert.equal(second.html, first.html);

      for (const tag of [etag, `W/${etag}`, `"other", ${etag}`, "*"]) {
        const again = await app.fetch(path, { headers: { "if-none-match": tag } });
        assert.equal(again.status, 304, `${path} with If-None-Match: ${tag}`);
        assert.equal(again.headers.get("etag"), etag);
        assert.equal(await again.text(), "");
      }
      const changed = await app.fetch(path, { headers: { "if-none-match": '"other"' } });
      assert.equal(changed.status, 200);
      await changed.body?.cancel();

      const head = await app.fetch(path, { method: "HEAD" });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get("etag"), etag);
      assert.equal(await head.text(), "");
    }
  } finally {
    await app.close();
  }
});

Deno.test("a signed-in page or a referral banner is never served to someone else", async () => {
  const app = await createTestApp({ payments: "simulator" });
  try {
    const { cookie } = await signIn(app, "private@example.com");
    const [{ referralCode }] = await app.db
      .sql`select referral_code from users where email = 'private@example.com'`;
    const referral = cookieFrom(await app.fetch(`/r/${referralCode}`), "rm_ref")!;

    for (const path of ["/", "/pricing", "/referrals"]) {
      // The personal renderings come first, while no anonymous copy exists yet.
      const signedIn = await get(app, path, { cookie });
      assert.match(signedIn.html, /Signed in as <strong>private@example.com<\/strong>/);
      assert.equal(signedIn.response.headers.get("cache-control"), "private, no-cache");
      assert.match(signedIn.response.headers.get("vary") ?? "", /Cookie/);
      assert.equal(signedIn.response.headers.get("etag"), null);

      const invited = await get(app, path, { cookie: referral });
      assert.match(invited.html, new RegExp(BANNER));
      assert.equal(invited.response.headers.get("cache-control"), "private, no-cache");

      const viaQuery = await app.fetch(`${path}?ref=${referralCode}`);
      assert.equal(viaQuery.status, 303);
      assert.ok(cookieFrom(viaQuery, "rm_ref"));

      const anonymous = await get(app, path);
      assert.doesNotMatch(anonymous.html, /Signed in as|private@example.com/);
      assert.doesNotMatch(anonymous.html, new RegExp(BANNER));
      assert.match(anonymous.html, />Sign in</);

      // And after the anonymous copy exists, people still get their own pages.
      assert.match((await get(app, path, { cookie })).html, /Signed in as/);
      assert.match((await get(app, path, { cookie: referral })).html, new RegExp(BANNER));
      assert.doesNotMatch((await get(app, path)).html, /Signed in as|Invited by a friend/);
    }

    // A query makes a page its own (`?plan=monthly` picks the plan): not from the copy.
    const monthly = await get(app, "/pricing?plan=monthly");
    assert.equal(monthly.response.headers.get("cache-control"), "private, no-cache");
    assert.match(monthly.html, /value="monthly" checked/);
  } finally {
    await app.close();
  }
});

Deno.test("the pricing copy changes when the prices it shows change", async () => {
  const app = await createTestApp({ payments: "simulator" });
  try {
    app.sim!.failNextRequests({ count: 2, status: 500, match: "GET /v1/prices" });
    const down = await get(app, "/pricing");
    assert.match(down.html, /Plans cannot be bought right now/);
    const downTag = down.response.headers.get("etag");
    assert.ok(downTag);

    // Once the failure is no longer remembered, the prices come back and so does a new copy.
    app.sim!.advanceClock(new Date(app.sim!.now().getTime() + 31_000));
    const up = await get(app, "/pricing");
    assert.doesNotMatch(up.html, /Plans cannot be bought right now/);
    assert.match(up.html, /a year/);
    assert.notEqual(up.response.headers.get("etag"), downTag);
    const stale = await app.fetch("/pricing", { headers: { "if-none-match": downTag } });
    assert.equal(stale.status, 200, "the old copy's ETag no longer matches");
    await stale.body?.cancel();
  } finally {
    await app.close();
  }
});
