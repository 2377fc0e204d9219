import assert from "node:assert/strict";
import { createTestApp, type TestApp } from "./helpers/app.ts";
import { signIn } from "./helpers/auth.ts";
import {
  deliverOk,
  invoiceObject,
  stripeEvent,
  subscriptionObject,
} from "./helpers/stripe_events.ts";
import { DAY } from "./helpers/clock.ts";
import { referralRules } from "../lib/referral_terms.ts";

async function html(app: TestApp, path: string, cookie?: string) {
  const response = await app.fetch(path, { headers: cookie ? { cookie } : {} });
  return { status: response.status, headers: response.headers, body: await response.text() };
}

async function asUser(app: TestApp, email: string) {
  const { cookie } = await signIn(app, email);
  const [user] = await app.db.sql`select id, stripe_customer_id from users where email = ${email}`;
  return { cookie, id: user.id as number };
}

Deno.test("/pricing shows Stripe's prices, the trial and the honest referral offer", async () => {
  const app = await createTestApp({ payments: "simulator" });
  try {
    const page = await html(app, "/pricing");
    assert.equal(page.status, 200);
    assert.match(page.body, /£70 a year/);
    assert.match(page.body, /£7 a month/);
    assert.match(page.body, /14-day free trial/);
    assert.match(page.body, /45 days of paid access/);
    assert.doesNotMatch(page.body, /50%|half price|% off/i);
    assert.match(page.body, /£14 less than paying monthly/);
    assert.match(page.body, /<island-root data-island="CheckoutPicker"/);
    assert.equal(page.body.match(/<script/g)?.length, 1);
    // Annual is chosen first; ?plan=monthly picks monthly, with the waiver unticked.
    assert.match(page.body, /value="annual" checked\/>/);
    const monthly = await html(app, "/pricing?plan=monthly");
    assert.match(monthly.body, /value="monthly" checked\/>/);
    assert.match(monthly.body, /<input id="reg36-waiver" type="checkbox" required\/>/);
    assert.match(monthly.body, /<button type="submit" class="btn" disabled /);
  } finally {
    await app.close();
  }
});

Deno.test("the referral page, pricing and settings state the same rules, with the configured cap", async () => {
  const app = await createTestApp({ env: { REFERRAL_REWARDS_PER_YEAR: "7" } });
  try {
    const rules = referralRules(7);
    const { cookie } = await asUser(app, "rules@example.com");
    const pages = {
      "/referrals": (await html(app, "/referrals")).body,
      "/pricing": (await html(app, "/pricing")).body,
      "/settings": (await html(app, "/settings", cookie)).body,
    };
    for (const [path, body] of Object.entries(pages)) {
      const words = body.replaceAll("&#39;", "'").replaceAll("&amp;", "&");
      for (const rule of [rules.subscribers, rules.refunds, rules.cap]) {
        assert.ok(words.includes(rule), `${path} says: ${rule}`);
      }
      assert.match(words, /at most 7 rewards in any 365 days/, path);
    }
    assert.ok(
      pages["/referrals"].replaceAll("&#39;", "'").includes(rules.selfReferral),
      "the referral page says what counts as inviting yourself",
    );
  } finally {
    await app.close();
  }
});

Deno.test("/pricing when payments are not set up says plans cannot be bought", async () => {
  const app = await createTestApp();
  try {
    const page = await html(app, "/pricing");
    assert.equal(page.status, 200);
    assert.match(page.body, /Plans cannot be bought right now/);
  } finally {
    await app.close();
  }
});

Deno.test("/settings for each kind of account", async (t) => {
  const app = await createTestApp({ payments: "simulator" });
  try {
    await t.step("visitors are sent to sign in and back", async () => {
      const page = await app.fetch("/settings?upgraded=1");
      assert.equal(page.status, 303);
      assert.equal(page.headers.get("location"), "/login?next=%2Fsettings%3Fupgraded%3D1");
    });

    await t.step("free: plan, link to pricing, referral link and counts", async () => {
      const { cookie } = await asUser(app, "free@example.com");
      const [{ referralCode }] = await app.db
        .sql`select referral_code from users where email = 'free@example.com'`;
      const page = await html(app, "/settings", cookie);
      assert.match(page.body, /data-testid="plan">Free</);
      assert.match(page.body, /<a class="btn" href="\/pricing">See plans<\/a>/);
      assert.ok(page.body.includes(`http://localhost:8000/r/${referralCode}`));
      assert.match(page.body, /data-testid="active-credits">0</);
      assert.doesNotMatch(page.body, /days on your account/);
      assert.equal(page.headers.get("cache-control"), "no-store");
    });

    await t.step("back from Checkout before the webhook: a thank-you and a refresh", async () => {
      const { cookie } = await asUser(app, "quick@example.com");
      const page = await html(app, "/settings?upgraded=1", cookie);
      assert.match(page.body, /confirming your payment/);
      assert.equal(page.headers.get("refresh"), "3");
    });

    await t.step(
      "paid monthly, with referral credit: plan, credit days, billing button",
      async () => {
        const referrer = await asUser(app, "paid-ref@example.com");
        const [{ referralCode }] = await app.db
          .sql`select referral_code from users where id = ${referrer.id}`;
        const { cookie } = await signIn(app, "paid@example.com", {
          cookie: `rm_ref=${referralCode}`,
        });
        const [user] = await app.db.sql`select id from users where email = 'paid@example.com'`;
        const customer = await app.stripe!.customers.create({ email: "paid@example.com" });
        await app.db
          .sql`update users set stripe_customer_id = ${customer.id} where id = ${user.id}`;
        await deliverOk(
          app,
          stripeEvent(
            "customer.subscription.created",
            subscriptionObject("sub_paid", customer.id, "active", {
              items: { data: [{ price: app.sim!.prices.monthly }] },
            }),
          ),
          { secret: app.sim!.webhookSecret },
        );
        await deliverOk(
          app,
          stripeEvent(
            "invoice.paid",
            invoiceObject(customer.id, 700, "subscription_create", "sub_paid"),
          ),
          {
            secret: app.sim!.webhookSecret,
          },
        );

        const page = await html(app, "/settings?upgraded=1", cookie);
        assert.match(page.body, /data-testid="plan">Paid \(monthly\)</);
        assert.match(page.body, /Thank you for subscribing!/);
        assert.equal(page.headers.get("refresh"), null);
        assert.match(page.body, /\+45 days on your account/);
        assert.match(page.body, /<island-root data-island="BillingPortalButton"/);
        const referrerPage = await html(app, "/settings", referrer.cookie);
        assert.match(referrerPage.body, /data-testid="active-credits">1</);
        assert.match(referrerPage.body, /data-testid="joined">1</);
        assert.match(referrerPage.body, /data-testid="converted">1</);
        assert.match(referrerPage.body, /\+45 days on your account/);
        assert.match(referrerPage.body, /You have full access/, "credit is paid access");
      },
    );

    await t.step("annual trial: the countdown", async () => {
      const { cookie, id } = await asUser(app, "trial@example.com");
      await app.db.sql`update users set stripe_customer_id = 'cus_trial_page' where id = ${id}`;
      const trialEnd = Math.floor((Date.now() + 14 * DAY - 60_000) / 1000);
      await deliverOk(
        app,
        stripeEvent(
          "customer.subscription.created",
          subscriptionObject("sub_trial", "cus_trial_page", "trialing", {
            trial_end: trialEnd,
            items: {
              data: [{
                price: { id: app.sim!.prices.annual, unit_amount: 7000, currency: "gbp" },
              }],
            },
          }),
        ),
        { secret: app.sim!.webhookSecret },
      );
      const page = await html(app, "/settings", cookie);
      assert.match(page.body, /data-testid="plan">Free trial \(annual\)</);
      assert.match(
        page.body,
        /data-testid="billing-status">Free trial: 14 days left — then £70\.00 on \d+ \w+ \d{4}</,
      );
    });
  } finally {
    await app.close();
  }
});

Deno.test("every page has labelled controls and a phone-width viewport", async () => {
  const app = await createTestApp({ payments: "simulator" });
  try {
    const { cookie } = await signIn(app, "labels@example.com");
    for (const path of ["/", "/pricing", "/login", "/referrals", "/settings"]) {
      // Signed in, /login goes straight on; its form is for visitors.
      const { body } = await html(app, path, path === "/login" ? undefined : cookie);
      assert.match(
        body,
        /<meta name="viewport" content="width=device-width, initial-scale=1"\/>/,
        path,
      );
      for (
        const [, id] of body.matchAll(/<input(?![^>]*type="(?:hidden|radio)")[^>]*id="([^"]+)"/g)
      ) {
        assert.ok(body.includes(`for="${id}"`), `${path}: input #${id} has no label`);
      }
      assert.ok(
        !/<input(?![^>]*type="hidden")(?![^>]*id=)[^>]*>/.test(
          body.replace(/<label[\s\S]*?<\/label>/g, ""),
        ),
        `${path}: an input outside a label has no id`,
      );
    }
  } finally {
    await app.close();
  }
});

Deno.test("each page has one title and description: its own where it has one, the site's otherwise", async () => {
  const app = await createTestApp({ payments: "simulator" });
  try {
    const { cookie } = await signIn(app, "titles@example.com");
    const expected: Record<string, RegExp> = {
      "/": /^read\.markets — Financial reading worth your time$/,
      "/pricing": /^Plans and prices — read\.markets$/,
      "/settings": /^Your account — read\.markets$/,
    };
    for (const [path, title] of Object.entries(expected)) {
      const { body } = await html(app, path, cookie);
      const titles = [...body.matchAll(/<title>([^<]*)<\/title>/g)].map((m) => m[1]);
      assert.equal(titles.length, 1, `${path}: ${titles.join(" | ")}`);
      assert.match(titles[0], title, path);
      const descriptions = body.match(/<meta name="description"/g) ?? [];
      assert.equal(descriptions.length, 1, path);
      assert.ok(body.indexOf("<title>") < body.indexOf("</head>"), path);
    }
  } finally {
    await app.close();
  }
});
