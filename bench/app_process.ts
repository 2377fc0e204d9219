/**
 * The app as it is deployed: `deno run -A main.ts` in a process of its own, on the bench's
 * database, its Stripe API pointed at the simulator the bench runs (so the bench knows its
 * webhook secret and prices). It logs at its default level, to nowhere.
 */
import type { Config } from "../lib/config.ts";
import { type ServerProcess, startServerProcess } from "./server_process.ts";

/** Database connections for each server under test, the app and the peer alike. */
export const SERVER_POOL_SIZE = 10;

const PROJECT_ROOT = new URL("../", import.meta.url).pathname;

export async function startAppProcess(databaseUrl: string, config: Config): Promise<ServerProcess> {
  const { stripe } = config;
  if (!stripe.apiKey || !stripe.apiBase || !stripe.webhookSecret) {
    throw new Error("the app process needs the simulator's key, address and webhook secret");
  }
  return await startServerProcess({
    name: "the app (main.ts)",
    command: Deno.execPath(),
    args: ["run", "-A", "main.ts"],
    cwd: PROJECT_ROOT,
    env: {
      DATABASE_URL: databaseUrl,
      DATABASE_POOL_SIZE: String(SERVER_POOL_SIZE),
      STRIPE_API_KEY: stripe.apiKey,
      STRIPE_API_BASE: stripe.apiBase,
      STRIPE_WEBHOOK_SECRET: stripe.webhookSecret,
      ...(stripe.priceMonthly ? { STRIPE_PRICE_MONTHLY: stripe.priceMonthly } : {}),
      ...(stripe.priceAnnual ? { STRIPE_PRICE_ANNUAL: stripe.priceAnnual } : {}),
    },
    readyPath: "/",
  });
}
