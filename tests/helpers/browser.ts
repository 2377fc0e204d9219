/**
 * Debian's Chromium driven by playwright-core. Nothing is downloaded: the browser comes from the
 * OS package manager (`.ci/run` installs it), and a missing one is a clear failure.
 */
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import type { TestApp } from "./app.ts";
import { signIn } from "./auth.ts";

export const CHROMIUM_PATH = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";
export const ARTIFACTS_DIR = new URL("../../test-artifacts/", import.meta.url);

const FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

export async function launchBrowser(): Promise<Browser> {
  try {
    await Deno.stat(CHROMIUM_PATH);
  } catch {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}; install it with \`apt-get install -y chromium\` ` +
        "or set CHROMIUM_PATH",
    );
  }
  return await chromium.launch({ executablePath: CHROMIUM_PATH, args: FLAGS, headless: true });
}

/** A page that records every uncaught error and console error, for the test to check. */
export async function openPage(
  browser: Browser | BrowserContext,
): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage();
  page.setDefaultTimeout(10_000);
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console error: ${message.text()}`);
  });
  return { page, problems };
}

/** Keep a screenshot as a test artefact (not committed). */
export async function screenshot(page: Page, name: string): Promise<void> {
  await Deno.mkdir(ARTIFACTS_DIR, { recursive: true });
  await page.screenshot({ path: new URL(`${name}.png`, ARTIFACTS_DIR).pathname, fullPage: true });
}

/**
 * Sign `email` in over HTTP and give the browser context its session cookie for the app's served
 * URL. Returns the cookie, for the API calls a test makes beside the browser.
 */
export async function signInBrowser(
  app: TestApp,
  context: BrowserContext,
  email: string,
): Promise<string> {
  const { cookie } = await signIn(app, email);
  const [name, value] = cookie.split("=");
  await context.addCookies([{ name, value, url: await app.listen() }]);
  return cookie;
}
