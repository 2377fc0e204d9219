import assert from "node:assert/strict";
import { createTestApp } from "../helpers/app.ts";
import { launchBrowser, openPage, screenshot } from "../helpers/browser.ts";

Deno.test("an island hydrates in Chromium and responds to input", async () => {
  const app = await createTestApp();
  const browser = await launchBrowser();
  try {
    const base = await app.listen();
    const { page, problems } = await openPage(browser);
    const scripts: string[] = [];
    page.on("request", (request) => {
      if (request.resourceType() === "script") scripts.push(request.url());
    });

    await page.goto(`${base}/referrals`);
    const days = page.getByTestId("credit-days");
    assert.equal(await days.textContent(), "135", "server-rendered for the default of 3 friends");

    // Only hydration makes the number follow the input.
    await page.getByLabel("Friends who subscribe").fill("7");
    await page.waitForFunction(() =>
      document.querySelector("[data-testid=credit-days]")?.textContent === "315"
    );
    assert.match(await page.locator("[aria-live]").textContent() ?? "", /about 11 months/);
    await screenshot(page, "referrals-island");

    await page.goto(`${base}/`);
    assert.equal(await page.locator("script").count(), 0);
    assert.ok(scripts.every((url) => url.includes("/_build/islands/")), scripts.join(", "));
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
    await app.close();
  }
});
