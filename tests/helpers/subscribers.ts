/**
 * People subscribing through the app and the Stripe simulator, for tests that follow a
 * subscription (or a referral) over time: sign in, check out and pay on the simulator's page,
 * move the clock on, and read the pages as the person sees them.
 */
import assert from "node:assert/strict";
import type Stripe from "stripe";
import type { TestApp } from "./app.ts";
import { cookieFrom, sessionHeaders, signIn } from "./auth.ts";
import { pressButton } from "./stripe.ts";
import { hasPaidAccess } from "../../lib/billing/entitlement.ts";
import { findUserByEmail, type User } from "../../lib/auth/users.ts";

export const DAY = 86_400_000;

export interface Reader {
  email: string;
  cookie: string;
  /** The site the requests come from, when the app is served somewhere other than the default. */
  origin?: string;
}

export async function reader(app: TestApp, email: string): Promise<Reader> {
  return { email, cookie: (await signIn(app, email)).cookie };
}

export async function person(app: TestApp, who: Reader): Promise<User> {
  return (await findUserByEmail(app.db.sql, who.email))!;
}

export async function access(app: TestApp, who: Reader): Promise<boolean> {
  return hasPaidAccess(await person(app, who), app.services.now(), 14);
}

/** Start a checkout through the app; the Checkout URL, or the refusal. */
export async function checkout(app: TestApp, who: Reader, cadence: "monthly" | "annual") {
  const response = await app.fetch("/api/stripe/checkout", {
    method: "POST",
    headers: sessionHeaders(who.cookie, who.origin),
    body: JSON.stringify({ cadence, reg36Waiver: cadence === "monthly" }),
  });
  return { status: response.status, body: await response.json() };
}

export async function subscribe(
  app: TestApp,
  who: Reader,
  cadence: "monthly" | "annual",
  button = "Pay",
  fields: Record<string, string> = {},
): Promise<Stripe.Subscription> {
  const started = await checkout(app, who, cadence);
  assert.equal(started.status, 200, JSON.stringify(started.body));
  const { response } = await pressButton(started.body.url, button, fields);
  assert.equal(response.status, 303);
  await settle(app);
  const id = (await person(app, who)).stripeSubscriptionId;
  assert.ok(id, "the subscription's own events have landed");
  return await app.stripe!.subscriptions.retrieve(id);
}

/** Sign someone up for the first time through `referrer`'s referral link. */
export async function invitedReader(
  app: TestApp,
  referrer: Reader,
  email: string,
): Promise<Reader> {
  const { referralCode } = await person(app, referrer);
  const referralCookie = cookieFrom(await app.fetch(`/r/${referralCode}`), "rm_ref")!;
  return { email, cookie: (await signIn(app, email, { cookie: referralCookie })).cookie };
}

/** Let every webhook and every job finish, and whatever they cause in turn. */
export async function settle(app: TestApp): Promise<void> {
  for (let round = 0; round < 4; round++) {
    await app.sim!.settled();
    await app.jobs.wake();
  }
  await app.sim!.settled();
}

/** Move the simulator (and so the app) on, and let every webhook and job finish. */
export async function advance(app: TestApp, days: number) {
  app.sim!.advanceClock(new Date(app.sim!.now().getTime() + days * DAY));
  await settle(app);
}

/** A page as the reader sees it; past the 30 days a session lasts, they sign in again. */
export async function page(app: TestApp, who: Reader, path: string): Promise<string> {
  let response = await app.fetch(path, { headers: { cookie: who.cookie } });
  if (response.status === 303) {
    await response.body?.cancel();
    who.cookie = (await signIn(app, who.email)).cookie;
    response = await app.fetch(path, { headers: { cookie: who.cookie } });
  }
  return await response.text();
}

export async function settings(app: TestApp, who: Reader): Promise<string> {
  return await page(app, who, "/settings");
}

export async function postForm(app: TestApp, who: Reader, path: string, fields = {}) {
  return await app.fetch(path, {
    method: "POST",
    headers: {
      cookie: who.cookie,
      origin: "http://localhost:8000",
      "content-type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams(fields).toString(),
  });
}

export const text = (html: string) =>
  html.replace(/<[^>]+>/g, " ").replaceAll("&#39;", "'").replace(/\s+/g, " ");

/** Test cards other than the default Visa, for friends who must not share the referrer's card. */
export const MASTERCARD = { card: "5555555555554444" };
export const AMEX = { card: "378282246310005" };

/** When Stripe will next charge the subscription: its trial's end, or its period's. */
export function chargeDate(subscription: Stripe.Subscription): Date {
  const at = subscription.status === "trialing" && subscription.trial_end
    ? subscription.trial_end
    : subscription.items.data[0].current_period_end;
  return new Date(at * 1000);
}

export async function nextCharge(app: TestApp, subscriptionId: string): Promise<Date> {
  return chargeDate(await app.stripe!.subscriptions.retrieve(subscriptionId));
}
