/**
 * The Content-Security-Policy is strict (scripts and styles from this site only, nothing inline)
 * and still lets every island hydrate: in Chromium, each page with islands responds to input and
 * reports no CSP violation, while an inline script injected into the same page is refused.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { createTestApp } from "../helpers/app.ts";
import { launchBrowser, openPage, screenshot, signInBrowser } from "../helpers/browser.ts";

/** The page's global object, with what the test keeps on it. */
type Watched = typeof globalThis & { cspViolations: string[]; inlineScriptRan?: boolean };

/** Collect CSP violations from the first moment of every document the page loads. */
async function watchViolations(page: Page) {
  await page.addInitScript(() => {
    const watched = globalThis as Watched;
    watched.cspViolations = [];
    document.addEventListener("securitypolicyviolation", (event) => {
      watched.cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
    });
  });
}

const violations = (page: Page) => page.evaluate(() => (globalThis as Watched).cspViolations);

Deno.test("islands hydrate under the CSP without a single violation; inline scripts are refused", async () => {
  const app = await createTestApp({ payments: "simulator" });
  const browser = await launchBrowser();
  try {
    const base = await app.listen();
    const { page, problems } = await openPage(browser);
    await signInBrowser(app, page.context(), "csp@example.com");
    await watchViolations(page);

    await page.goto(`${base}/referrals`);
    await page.getByLabel("Friends who subscribe").fill("2");
    await page.waitForFunction(() =>
      document.querySelector("[data-testid=credit-days]")?.textContent === "90"
    );
    assert.deepEqual(await violations(page), [], "/referrals");

    await page.goto(`${base}/pricing`);
    await page.getByRole("radio", { name: /Monthly/ }).check();
    // The waiver box exists only once the island runs: the server rendered the annual plan.
    await page.getByLabel(/I want my subscription to start immediately/).check();
    assert.equal(await page.getByRole("button", { name: "Subscribe monthly" }).isEnabled(), true);
    assert.deepEqual(await violations(page), [], "/pricing");
    await screenshot(page, "pricing-under-csp");

    await page.goto(`${base}/settings`);
    await page.getByRole("button", { name: "Copy link" }).click();
    await page.getByRole("status").filter({ hasText: /Copied|Ctrl\+C/ }).waitFor();
    assert.deepEqual(await violations(page), [], "/settings");
    assert.deepEqual(problems, [], "no console errors on any island page");

    // The control: the same policy refuses what an injected script would need.
    await page.evaluate(() => {
      const script = document.createElement("script");
      script.textContent = "globalThis.inlineScriptRan = true";
      document.body.append(script);
    });
    await page.waitForFunction(() => (globalThis as Watched).cspViolations.length > 0);
    assert.equal(await page.evaluate(() => (globalThis as Watched).inlineScriptRan), undefined);
    assert.match((await violations(page))[0], /^script-src/);
  } finally {
    await browser.close();
    await app.close();
  }
});
