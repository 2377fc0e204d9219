/**
 * The "Continue signing in" page in Chromium: the browser that asked for the link goes straight
 * through; another browser (a phone, a scanner, someone else's) sees whose account it is, an
 * invitation it must accept itself, and a button.
 */
import assert from "node:assert/strict";
import { createTestApp } from "../helpers/app.ts";
import { lastSignInLink } from "../helpers/auth.ts";
import { referralsOf } from "../helpers/users.ts";
import { launchBrowser, openPage, screenshot } from "../helpers/browser.ts";

Deno.test("the continue page, in the asking browser and in another one, in Chromium", async (t) => {
  const app = await createTestApp({ servedAtSiteUrl: true });
  const base = await app.listen();
  const browser = await launchBrowser();
  try {
    const asking = await openPage(await browser.newContext());
    const elsewhere = await openPage(await browser.newContext());
    const [{ referralCode }] = await app.db.sql`
      insert into users (email, referral_code) values ('friend@example.com', 'friendcode123456')
      returning referral_code`;

    await t.step("asked for from a referral link, the link signs in by itself", async () => {
      await asking.page.goto(`${base}/r/${referralCode}`);
      await asking.page.getByRole("link", { name: "Sign in" }).click();
      await asking.page.getByLabel("Email address").fill("new@example.com");
      await asking.page.getByRole("button", { name: "Email me a sign-in link" }).click();
      await asking.page.getByRole("heading", { name: "Check your email" }).waitFor();
      await asking.page.goto(lastSignInLink(app, "new@example.com"));
      await asking.page.getByText("Signed in as new@example.com").waitFor();
      assert.equal(
        await referralsOf(app.db.sql, "new@example.com"),
        1,
        "the invitation the person followed themselves counts",
      );
    });

    await t.step("opened in another browser, it waits for the person", async () => {
      // Asked for by a browser that is not this one (the request carries its own cookies).
      await app.fetch("/api/auth/login", {
        method: "POST",
        headers: { "content-type": "application/json", cookie: `rm_ref=${referralCode}` },
        body: JSON.stringify({ email: "phone@example.com" }),
      });
      await elsewhere.page.goto(lastSignInLink(app, "phone@example.com"));
      await elsewhere.page.getByRole("heading", { name: "Continue signing in" }).waitFor();
      await elsewhere.page.getByText("This creates your read.markets account for").waitFor();
      await elsewhere.page.getByRole("heading", { name: "You were invited by a friend" })
        .waitFor();
      const invitation = elsewhere.page.getByLabel(/Count me as their friend/);
      assert.equal(await invitation.isChecked(), false, "not accepted on the person's behalf");
      await screenshot(elsewhere.page, "sign-in-continue");
      const [link] = await app.db
        .sql`select used_at from login_tokens where email = 'phone@example.com'`;
      assert.equal(link.usedAt, null, "showing the page spent nothing");

      await invitation.check();
      await elsewhere.page.getByRole("button", { name: "Continue signing in" }).click();
      await elsewhere.page.getByText("Signed in as phone@example.com").waitFor();
      assert.equal(
        await referralsOf(app.db.sql, "phone@example.com"),
        1,
        "accepted by the person, it counts",
      );
    });

    await t.step("a link for another account says whose it is before switching", async () => {
      await app.fetch("/api/auth/login", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: "friend@example.com" }),
      });
      await elsewhere.page.goto(lastSignInLink(app, "friend@example.com"));
      await elsewhere.page.getByText("This browser is signed in as phone@example.com").waitFor();
      await screenshot(elsewhere.page, "sign-in-continue-switch");
      await elsewhere.page.goto(base);
      await elsewhere.page.getByText("Signed in as phone@example.com").waitFor();
    });
  } finally {
    await browser.close();
    await app.close();
  }
});
