/**
 * The subscription's life in Chromium: a failed payment's warning on every page and its card
 * button, cancelling with one confirmation and resuming, and switching monthly to annual with the
 * preview of today's charge — each with a screenshot in `test-artifacts/`.
 */
import assert from "node:assert/strict";
import { createTestApp } from "../helpers/app.ts";
import { launchBrowser, openPage, screenshot, signInBrowser } from "../helpers/browser.ts";
import { subscribe } from "../helpers/subscribers.ts";

const DAY = 86_400_000;

Deno.test("payment warning, cancel and resume, and the upgrade preview, in Chromium", async (t) => {
  const app = await createTestApp({ payments: "simulator", servedAtSiteUrl: true });
  const base = await app.listen();
  const browser = await launchBrowser();
  const context = await browser.newContext();
  const { page, problems } = await openPage(context);
  try {
    const email = "browser-life@example.com";
    const cookie = await signInBrowser(app, context, email);
    const subscription = (await subscribe(app, { email, cookie, origin: base }, "monthly")).id;

    await t.step(
      "a failed payment: the warning on every page, and its button opens the card form",
      async () => {
        app.sim!.failPayments(subscription, 1);
        app.sim!.advanceClock(new Date(app.sim!.now().getTime() + 31 * DAY));
        await app.sim!.settled();
        // A month has passed, longer than a session lasts: sign in again.
        await signInBrowser(app, context, email);
        await page.goto(`${base}/pricing`);
        const warning = page.getByTestId("payment-problem");
        await warning.waitFor();
        assert.match(
          await warning.textContent() ?? "",
          /Your last payment failed — update your card to keep access \(access ends on \d+ \w+ \d{4} if it isn't paid\)/,
        );
        await screenshot(page, "payment-warning");
        await warning.getByRole("link", { name: "Update card" }).click();
        await page.waitForURL(`${app.sim!.url}/portal/**`);
        await page.getByRole("button", { name: "Save card" }).click();
        await page.waitForURL(`${base}/settings`);
        app.sim!.advanceClock(new Date(app.sim!.now().getTime() + 3 * DAY));
        await app.sim!.settled();
        await page.reload();
        assert.equal(await page.getByTestId("payment-problem").count(), 0, "paid on the retry");
        assert.match(await page.getByTestId("billing-status").textContent() ?? "", /^Renews on /);
      },
    );

    await t.step("cancel asks once, settings shows the end date, resume undoes it", async () => {
      await page.goto(`${base}/settings`);
      await page.getByRole("link", { name: "Cancel subscription" }).click();
      await page.waitForURL(`${base}/settings/cancel`);
      await page.getByRole("heading", { name: "Cancel your subscription?" }).waitFor();
      await screenshot(page, "cancel-confirmation");
      await page.getByRole("button", { name: "Cancel subscription" }).click();
      await page.waitForURL(`${base}/settings?done=cancelled`);
      await app.sim!.settled();
      await page.reload();
      const status = await page.getByTestId("billing-status").textContent() ?? "";
      assert.match(status, /^Ends on \d+ \w+ \d{4} \(you cancelled\)$/);
      await screenshot(page, "settings-cancelled");
      await page.getByRole("button", { name: "Resume subscription" }).click();
      await page.waitForURL(`${base}/settings?done=resumed`);
      await app.sim!.settled();
      await page.reload();
      assert.match(
        await page.getByTestId("billing-status").textContent() ?? "",
        /^Renews on .* for £7\.00$/,
      );
    });

    await t.step("switch to annual: today's charge shown before confirming", async () => {
      await page.getByRole("link", { name: "Switch to annual" }).click();
      await page.waitForURL(`${base}/settings/upgrade`);
      const preview = await page.getByTestId("upgrade-preview").textContent() ?? "";
      assert.match(preview, /You pay £\d+\.\d\d today/);
      await screenshot(page, "upgrade-preview");
      await page.getByRole("button", { name: "Switch and pay now" }).click();
      await page.waitForURL(`${base}/settings?done=switched`);
      await app.sim!.settled();
      await page.reload();
      assert.equal(await page.getByTestId("plan").textContent(), "Paid (annual)");
    });

    assert.deepEqual(problems, []);
  } finally {
    await context.close();
    await browser.close();
    await app.close();
  }
});
