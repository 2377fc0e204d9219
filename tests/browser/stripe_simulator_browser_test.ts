import assert from "node:assert/strict";
import { launchBrowser, openPage, screenshot } from "../helpers/browser.ts";
import { startSimulatedStripe } from "../helpers/stripe.ts";

Deno.test("checkout and portal work by keyboard alone in Chromium", async () => {
  const { sim, stripe, close } = await startSimulatedStripe();
  const browser = await launchBrowser();
  try {
    const { page, problems } = await openPage(browser);
    const session = await stripe.checkout.sessions.create({
      mode: "subscription",
      line_items: [{ price: sim.prices.annual, quantity: 1 }],
      subscription_data: { trial_period_days: 14 },
      success_url: `${sim.url}/_sim`,
      cancel_url: `${sim.url}/_sim`,
    });
    await page.goto(session.url!);
    await screenshot(page, "stripe-simulator-checkout");

    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement?.id), "email");
    await page.keyboard.type("keys@example.com");
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Pay");
    await Promise.all([page.waitForURL(`${sim.url}/_sim`), page.keyboard.press("Enter")]);
    assert.match(await page.locator("h1").textContent() ?? "", /Stripe simulator/);

    const [subscription] = sim.events()
      .filter((event) => event.type === "customer.subscription.created")
      .map((event) => event.data.object as { id: string; customer: string; status: string });
    assert.equal(subscription.status, "trialing");

    const portal = await stripe.billingPortal.sessions.create({
      customer: subscription.customer,
      return_url: `${sim.url}/_sim`,
    });
    await page.goto(portal.url);
    await screenshot(page, "stripe-simulator-portal");
    await page.getByRole("button", { name: "Cancel now" }).focus();
    await Promise.all([page.waitForLoadState("load"), page.keyboard.press("Enter")]);
    await page.getByText("You have no current subscriptions.").waitFor();
    assert.equal((await stripe.subscriptions.retrieve(subscription.id)).status, "canceled");
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
    await close();
  }
});
