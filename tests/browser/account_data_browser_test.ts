/**
 * The person's data in Chromium: settings offers "Download my data", which saves a JSON file of
 * their account, and "Delete my account", which asks for their address, refuses another, and
 * ends signed out on the page that says the account is gone — each with a screenshot in
 * `test-artifacts/`.
 */
import assert from "node:assert/strict";
import { createTestApp } from "../helpers/app.ts";
import { launchBrowser, openPage, screenshot, signInBrowser } from "../helpers/browser.ts";
import { subscribe } from "../helpers/subscribers.ts";
import { findUserByEmail } from "../../lib/auth/users.ts";

Deno.test("download my data, then delete my account, in Chromium", async (t) => {
  const app = await createTestApp({ payments: "simulator", servedAtSiteUrl: true });
  const base = await app.listen();
  const browser = await launchBrowser();
  const context = await browser.newContext({ acceptDownloads: true });
  const { page, problems } = await openPage(context);
  try {
    const email = "browser-data@example.com";
    const cookie = await signInBrowser(app, context, email);
    await subscribe(app, { email, cookie, origin: base }, "monthly");

    await t.step("settings offers both, and the download is a JSON file", async () => {
      await page.goto(`${base}/settings`);
      const section = page.getByRole("region", { name: "Your data" });
      await section.waitFor();
      await screenshot(page, "settings-your-data");
      const [download] = await Promise.all([
        page.waitForEvent("download"),
        section.getByRole("link", { name: "Download my data" }).click(),
      ]);
      assert.match(download.suggestedFilename(), /^read-markets-data-\d{4}-\d{2}-\d{2}\.json$/);
      const saved = await download.path();
      const data = JSON.parse(await Deno.readTextFile(saved));
      assert.equal(data.account.email, email);
      assert.equal(data.subscriptions[0].plan, "monthly");
      assert.equal(data.consents[0].kind, "reg36_waiver");
    });

    await t.step("delete asks for the address and refuses another", async () => {
      await page.getByRole("link", { name: "Delete my account" }).click();
      await page.waitForURL(`${base}/settings/delete`);
      await page.getByRole("heading", { name: "Delete your account?" }).waitFor();
      await screenshot(page, "delete-account");
      await page.getByLabel("To confirm, type your email address").fill("someone@example.com");
      await page.getByRole("button", { name: "Delete my account" }).click();
      await page.getByRole("alert").waitFor();
      assert.match(await page.getByRole("alert").textContent() ?? "", /not your email address/);
      await screenshot(page, "delete-account-refused");
      assert.ok(await findUserByEmail(app.db.sql, email), "nothing was deleted");
      // The refusal is a 400 page, which Chromium reports on its console; nothing else is.
      assert.deepEqual(problems.splice(0), [
        "console error: Failed to load resource: the server responded with a status of 400 (Bad Request)",
      ]);
    });

    await t.step("with the address, the account goes and the browser is signed out", async () => {
      await page.getByLabel("To confirm, type your email address").fill(email);
      await page.getByRole("button", { name: "Delete my account" }).click();
      await page.waitForURL(`${base}/account-deleted`);
      await page.getByRole("heading", { name: "Your account has been deleted" }).waitFor();
      await screenshot(page, "account-deleted");
      assert.equal(await page.getByRole("link", { name: "Sign in" }).count(), 1);
      const cookies = await context.cookies(base);
      assert.equal(cookies.find((c) => c.name === "rm_session"), undefined);
      await page.goto(`${base}/settings`);
      await page.waitForURL(/\/login\?next=%2Fsettings$/);
      assert.equal(await findUserByEmail(app.db.sql, email), null);
    });

    assert.deepEqual(problems, []);
  } finally {
    await context.close();
    await browser.close();
    await app.close();
  }
});
