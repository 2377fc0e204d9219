/**
 * The journey the product exists for, in Chromium against the app on the Stripe simulator and a
 * real database: a referrer shares their link, a friend follows it, signs in, buys monthly
 * (waiver first), and both get 45 days; an annual buyer sees the trial; the portal cancels.
 */
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { lastSignInLink } from "../helpers/auth.ts";
import { launchBrowser, openPage, screenshot } from "../helpers/browser.ts";
import { REG36_WAIVER } from "../../lib/billing/waiver.ts";

async function newVisitor(browser: Browser, base: string) {
  const context = await browser.newContext();
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
  const opened = await openPage(context);
  return { ...opened, close: () => context.close() };
}

async function signInThroughTheForm(app: TestApp, page: Page, email: string) {
  await page.getByRole("link", { name: "Sign in" }).click();
  await page.getByLabel("Email address").fill(email);
  await page.getByRole("button", { name: "Email me a sign-in link" }).click();
  await page.getByRole("heading", { name: "Check your email" }).waitFor();
  await page.goto(lastSignInLink(app, email));
  await page.getByText(`Signed in as ${email}`).waitFor();
}

async function settingsAfterWebhooks(app: TestApp, page: Page) {
  await app.sim!.settled();
  await page.reload();
  return {
    plan: await page.getByTestId("plan").textContent(),
    status: await page.getByTestId("billing-status").count()
      ? await page.getByTestId("billing-status").textContent()
      : null,
    credit: await page.getByTestId("credit").count()
      ? await page.getByTestId("credit").textContent()
      : null,
    activeCredits: await page.getByTestId("active-credits").textContent(),
  };
}

Deno.test("referral to paid plan, trial countdown and portal cancellation, in Chromium", async (t) => {
  const app = await createTestApp({ payments: "simulator", servedAtSiteUrl: true });
  const base = await app.listen();
  const browser = await launchBrowser();
  try {
    const referrer = await newVisitor(browser, base);
    let referralLink = "";

    await t.step("the referrer signs in and copies their link", async () => {
      await referrer.page.goto(base);
      await signInThroughTheForm(app, referrer.page, "referrer@example.com");
      await referrer.page.goto(`${base}/settings`);
      await referrer.page.getByRole("button", { name: "Copy link" }).click();
      await referrer.page.getByText("Copied to your clipboard.").waitFor();
      referralLink = await referrer.page.evaluate(() => navigator.clipboard.readText());
      const [{ referralCode }] = await app.db
        .sql`select referral_code from users where email = 'referrer@example.com'`;
      assert.equal(referralLink, `${base}/r/${referralCode}`);
    });

    const friend = await newVisitor(browser, base);
    await t.step("a friend follows it and sees the invitation", async () => {
      await friend.page.goto(referralLink);
      assert.equal(new URL(friend.page.url()).pathname, "/");
      await friend.page.getByText(
        "Invited by a friend: get 45 days of paid access when you subscribe",
      ).waitFor();
      await screenshot(friend.page, "referral-banner");
      await signInThroughTheForm(app, friend.page, "friend@example.com");
    });

    await t.step("monthly cannot be bought until the waiver is ticked", async () => {
      await friend.page.goto(`${base}/pricing`);
      await friend.page.getByLabel(/Monthly/).check();
      const subscribe = friend.page.getByRole("button", { name: "Subscribe monthly" });
      assert.equal(await subscribe.isDisabled(), true);
      await subscribe.click({ force: true });
      assert.equal(
        new URL(friend.page.url()).pathname,
        "/pricing",
        "a click on the disabled button goes nowhere",
      );
      await screenshot(friend.page, "pricing");
      // By keyboard: focus the waiver and tick it with the space bar.
      await friend.page.getByLabel(REG36_WAIVER.text).focus();
      await friend.page.keyboard.press("Space");
      assert.equal(await subscribe.isDisabled(), false);
      await subscribe.click();
    });

    await t.step("paying on the checkout page lands on settings: Paid and +45 days", async () => {
      await friend.page.waitForURL(`${app.sim!.url}/checkout/**`);
      await friend.page.getByRole("button", { name: "Pay" }).click();
      await friend.page.waitForURL(`${base}/settings?upgraded=1`);
      const settings = await settingsAfterWebhooks(app, friend.page);
      assert.equal(settings.plan, "Paid (monthly)");
      assert.match(settings.credit ?? "", /\+45 days on your account/);
      await friend.page.getByText("Thank you for subscribing!").waitFor();
      await screenshot(friend.page, "settings");
      const [consent] = await app.db.sql`select kind, text_version from consents`;
      assert.equal(consent.kind, "reg36_waiver");
    });

    await t.step("the referrer now has one active credit and 45 days", async () => {
      await referrer.page.goto(`${base}/settings`);
      const settings = await settingsAfterWebhooks(app, referrer.page);
      assert.equal(settings.activeCredits, "1");
      assert.match(settings.credit ?? "", /\+45 days on your account/);
    });

    await t.step("buying again is refused in words (and no second trial is offered)", async () => {
      await friend.page.goto(`${base}/pricing`);
      await friend.page.getByRole("button", { name: "Subscribe yearly" }).click();
      const alert = friend.page.getByRole("alert");
      await alert.waitFor();
      assert.match(await alert.textContent() ?? "", /You already have a subscription/);
    });

    const annual = await newVisitor(browser, base);
    await t.step("a signed-out visitor is sent to sign in and back to the plan", async () => {
      await annual.page.goto(`${base}/pricing`);
      await annual.page.getByRole("button", { name: "Start 14-day free trial" }).click();
      await annual.page.waitForURL(`${base}/login?next=%2Fpricing%3Fplan%3Dannual`);
      await annual.page.getByLabel("Email address").fill("annual@example.com");
      await annual.page.getByRole("button", { name: "Email me a sign-in link" }).click();
      await annual.page.getByRole("heading", { name: "Check your email" }).waitFor();
      await annual.page.goto(lastSignInLink(app, "annual@example.com"));
      await annual.page.waitForURL(`${base}/pricing?plan=annual`);
    });

    await t.step("an annual buyer sees the trial countdown", async () => {
      await annual.page.getByRole("button", { name: "Start 14-day free trial" }).click();
      await annual.page.waitForURL(`${app.sim!.url}/checkout/**`);
      await annual.page.getByRole("button", { name: "Pay" }).click();
      await annual.page.waitForURL(`${base}/settings?upgraded=1`);
      const settings = await settingsAfterWebhooks(app, annual.page);
      assert.equal(settings.plan, "Free trial (annual)");
      assert.match(
        settings.status ?? "",
        /^Free trial: 14 days left — then £70\.00 on \d+ \w+ \d{4}$/,
      );
    });

    await t.step(
      "Manage billing opens the portal; cancelling there shows in settings",
      async () => {
        await annual.page.getByRole("button", { name: "Manage billing" }).click();
        await annual.page.waitForURL(`${app.sim!.url}/portal/**`);
        await annual.page.getByRole("button", { name: "Cancel now" }).click();
        await annual.page.getByRole("link", { name: "Return to site" }).click();
        await annual.page.waitForURL(`${base}/settings`);
        assert.equal((await settingsAfterWebhooks(app, annual.page)).plan, "Free");
        await annual.page.getByRole("link", { name: "See plans" }).waitFor();
      },
    );

    await t.step("when Stripe cannot be reached, the page says so", async () => {
      await annual.page.goto(`${base}/pricing`);
      await app.sim!.close();
      // Their free trial is used: annual now bills at once.
      await annual.page.getByRole("button", { name: "Subscribe yearly" }).click();
      const alert = annual.page.getByRole("alert");
      await alert.waitFor();
      assert.match(await alert.textContent() ?? "", /payment provider/);
    });

    // The refusals above are expected answers; anything else in the console is a defect.
    const expected = /Failed to load resource: the server responded with a status of (409|502)/;
    for (const visitor of [referrer, friend, annual]) {
      assert.deepEqual(visitor.problems.filter((p) => !expected.test(p)), []);
      await visitor.close();
    }
  } finally {
    await browser.close();
    await app.close();
  }
});
