import assert from "node:assert/strict";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { sessionHeaders, signIn } from "../helpers/auth.ts";
import { pressButton } from "../helpers/stripe.ts";
import { REG36_WAIVER } from "../../lib/billing/waiver.ts";
import { expireOpenSession } from "../../lib/billing/checkout.ts";
import { DomainError } from "../../lib/domain_error.ts";

const ADMIN_TOKEN = "admin-token-for-checkout-tests-0123456789";

function post(
  app: TestApp,
  path: string,
  cookie: string | null,
  body: unknown,
  extra: HeadersInit = {},
) {
  return app.fetch(path, {
    method: "POST",
    headers: {
      ...(cookie ? sessionHeaders(cookie) : { "content-type": "application/json" }),
      ...extra,
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

async function errorOf(response: Response) {
  const body = await response.json();
  return { status: response.status, error: body.error, message: body.message as string };
}

async function userRow(app: TestApp, email: string) {
  const [row] = await app.db.sql`select * from users where email = ${email}`;
  return row;
}

Deno.test("checkout refuses what it must, with the right status and a message", async (t) => {
  const app = await createTestApp({ payments: "simulator", env: { ADMIN_TOKEN } });
  try {
    const { cookie } = await signIn(app, "careful@example.com");

    await t.step("signed out → 401; the admin token → 400", async () => {
      assert.deepEqual(
        await errorOf(
          await post(app, "/api/stripe/checkout", null, { cadence: "annual", reg36Waiver: false }),
        ),
        {
          status: 401,
          error: "unauthorized",
          message: "Sign in to continue",
        },
      );
      const admin = await post(app, "/api/stripe/checkout", null, {
        cadence: "annual",
        reg36Waiver: false,
      }, {
        authorization: `Bearer ${ADMIN_TOKEN}`,
      });
      assert.deepEqual(await errorOf(admin), {
        status: 400,
        error: "admin_cannot_buy",
        message: "The admin token cannot buy a subscription",
      });
    });

    await t.step("bodies that do not fit → 400 naming the problem", async () => {
      const cases: [unknown, RegExp][] = [
        [{ cadence: "weekly", reg36Waiver: true }, /cadence: must be "monthly" or "annual"/],
        [{ cadence: "monthly" }, /reg36Waiver: must be true or false/],
        [{ cadence: "monthly", reg36Waiver: "yes" }, /reg36Waiver: must be true or false/],
        [{ cadence: "annual", reg36Waiver: false, coupon: "FREE" }, /Unrecognized key: "coupon"/],
        [[], /expected object/],
        ["{", /not valid JSON/],
      ];
      for (const [body, message] of cases) {
        const { status, error, message: text } = await errorOf(
          await post(app, "/api/stripe/checkout", cookie, body),
        );
        assert.equal(status, 400, JSON.stringify(body));
        assert.equal(error, "bad_request");
        assert.match(text, message);
      }
    });

    await t.step("monthly without the waiver → 400 reg36_waiver_required", async () => {
      const refused = await errorOf(
        await post(app, "/api/stripe/checkout", cookie, { cadence: "monthly", reg36Waiver: false }),
      );
      assert.equal(refused.status, 400);
      assert.equal(refused.error, "reg36_waiver_required");
      assert.match(refused.message, /lose the 14-day right to cancel/);
    });

    const [{ consents }] = await app.db.sql`select count(*)::int as consents from consents`;
    assert.equal(consents, 0);
    assert.equal(
      (await userRow(app, "careful@example.com")).stripeCustomerId,
      null,
      "no customer minted",
    );
  } finally {
    await app.close();
  }
});

Deno.test("monthly checkout: customer first, waiver evidence recorded, Checkout configured", async () => {
  const app = await createTestApp({ payments: "simulator" });
  try {
    const { cookie } = await signIn(app, "monthly@example.com");
    const response = await post(app, "/api/stripe/checkout", cookie, {
      cadence: "monthly",
      reg36Waiver: true,
    }, {
      "user-agent": "TestBrowser/1.0",
    });
    assert.equal(response.status, 200);
    const { url } = await response.json();
    assert.ok(url.startsWith(app.sim!.url), url);

    const user = await userRow(app, "monthly@example.com");
    assert.match(user.stripeCustomerId, /^cus_/);
    const customer = await app.stripe!.customers.retrieve(user.stripeCustomerId);
    assert.equal((customer as { email: string }).email, "monthly@example.com");
    assert.equal(
      (customer as { metadata: Record<string, string> }).metadata.user_id,
      String(user.id),
    );

    const sessionId = url.split("/").pop()!;
    const session = await app.stripe!.checkout.sessions.retrieve(sessionId);
    assert.equal(session.mode, "subscription");
    assert.equal(session.customer, user.stripeCustomerId);
    assert.equal(session.client_reference_id, String(user.id));
    assert.equal(session.success_url, "http://localhost:8000/settings?upgraded=1");
    assert.equal(session.cancel_url, "http://localhost:8000/pricing");
    assert.equal(session.allow_promotion_codes, true);

    const consents = await app.db.sql`select * from consents`;
    assert.equal(consents.length, 1);
    assert.equal(consents[0].userId, user.id);
    assert.equal(consents[0].kind, "reg36_waiver");
    assert.equal(consents[0].textVersion, REG36_WAIVER.version);
    assert.equal(consents[0].ip, "127.0.0.1");
    assert.equal(consents[0].userAgent, "TestBrowser/1.0");
    assert.equal(consents[0].checkoutSessionId, sessionId);
    assert.ok(consents[0].acceptedAt instanceof Date);
    assert.equal(app.logs.records("stripe.checkout.created")[0].session_id, sessionId);

    // A second checkout (say, after cancelling on Stripe's page) reuses the customer.
    const again = await post(app, "/api/stripe/checkout", cookie, {
      cadence: "annual",
      reg36Waiver: false,
    });
    const { url: second } = await again.json();
    const secondSession = await app.stripe!.checkout.sessions.retrieve(second.split("/").pop()!);
    assert.equal(secondSession.customer, user.stripeCustomerId);
    const [{ count }] = await app.db.sql`select count(*)::int from consents`;
    assert.equal(count, 1, "annual needs no waiver, so no new consent row");
  } finally {
    await app.close();
  }
});

Deno.test("two checkouts at once mint one Stripe customer", async () => {
  const app = await createTestApp({ payments: "simulator" });
  try {
    const { cookie } = await signIn(app, "eager@example.com");
    const answers = await Promise.all(
      [1, 2, 3].map(() =>
        post(app, "/api/stripe/checkout", cookie, { cadence: "annual", reg36Waiver: false }).then((
          r,
        ) => r.json())
      ),
    );
    const customers = await Promise.all(
      answers.map(async ({ url }) =>
        (await app.stripe!.checkout.sessions.retrieve(url.split("/").pop())).customer
      ),
    );
    assert.equal(new Set(customers).size, 1);
    assert.equal((await userRow(app, "eager@example.com")).stripeCustomerId, customers[0]);
  } finally {
    await app.close();
  }
});

Deno.test("an earlier session another checkout expired first is fine; one paid meanwhile refuses", async () => {
  const app = await createTestApp({ payments: "simulator" });
  try {
    const { cookie } = await signIn(app, "racing@example.com");
    const start = async () => {
      const { url } = await (await post(app, "/api/stripe/checkout", cookie, {
        cadence: "annual",
        reg36Waiver: false,
      })).json();
      return { url: url as string, id: (url as string).split("/").pop()! };
    };
    const expiredMeanwhile = await start();
    await app.stripe!.checkout.sessions.expire(expiredMeanwhile.id);
    await expireOpenSession(app.stripe!, expiredMeanwhile.id);

    const paidMeanwhile = await start();
    await pressButton(paidMeanwhile.url, "Pay");
    await assert.rejects(
      () => expireOpenSession(app.stripe!, paidMeanwhile.id),
      (error: unknown) => error instanceof DomainError && error.code === "already_subscribed",
    );
  } finally {
    await app.close();
  }
});

Deno.test("paying on Stripe: webhooks grant paid, and a second subscription is refused", async () => {
  const app = await createTestApp({ payments: "simulator" });
  try {
    const { cookie } = await signIn(app, "payer@example.com");
    const { url } = await (await post(app, "/api/stripe/checkout", cookie, {
      cadence: "annual",
      reg36Waiver: false,
    })).json();
    const paid = await pressButton(url, "Pay");
    assert.equal(paid.location, "http://localhost:8000/settings?upgraded=1");
    await app.sim!.settled();

    const user = await userRow(app, "payer@example.com");
    assert.equal(user.tier, "paid");
    assert.equal(user.stripeSubscriptionStatus, "trialing");
    const trialDays = (user.stripeTrialEndAt.getTime() - Date.now()) / 86_400_000;
    assert.ok(trialDays > 13.9 && trialDays <= 14, `trial of ${trialDays} days`);

    const second = await errorOf(
      await post(app, "/api/stripe/checkout", cookie, { cadence: "monthly", reg36Waiver: true }),
    );
    assert.equal(second.status, 409);
    assert.equal(second.error, "already_subscribed");
    assert.match(second.message, /billing portal/);
    const [{ count }] = await app.db.sql`select count(*)::int from consents`;
    assert.equal(count, 0, "a refused checkout records no consent");
  } finally {
    await app.close();
  }
});

Deno.test("payments not set up → 503 naming what is missing; Stripe refusing → 502", async () => {
  const none = await createTestApp();
  try {
    const { cookie } = await signIn(none, "early@example.com");
    const refused = await errorOf(
      await post(none, "/api/stripe/checkout", cookie, { cadence: "annual", reg36Waiver: false }),
    );
    assert.deepEqual(refused, {
      status: 503,
      error: "stripe_not_configured",
      message: "Payments are not configured on this server",
    });
  } finally {
    await none.close();
  }

  const noPrice = await createTestApp({ payments: "simulator", env: { STRIPE_PRICE_MONTHLY: "" } });
  try {
    const { cookie } = await signIn(noPrice, "early@example.com");
    const refused = await errorOf(
      await post(noPrice, "/api/stripe/checkout", cookie, {
        cadence: "monthly",
        reg36Waiver: true,
      }),
    );
    assert.equal(refused.status, 503);
    assert.match(refused.message, /STRIPE_PRICE_MONTHLY is not configured/);
  } finally {
    await noPrice.close();
  }

  const wrongPrice = await createTestApp({
    payments: "simulator",
    env: { STRIPE_PRICE_ANNUAL: "price_does_not_exist" },
  });
  try {
    const { cookie } = await signIn(wrongPrice, "early@example.com");
    const failed = await errorOf(
      await post(wrongPrice, "/api/stripe/checkout", cookie, {
        cadence: "annual",
        reg36Waiver: false,
      }),
    );
    assert.equal(failed.status, 502);
    assert.equal(failed.error, "stripe_error");
    assert.match(
      failed.message,
      /The payment provider refused the request: .*price_does_not_exist/,
    );
    assert.equal(wrongPrice.logs.records("stripe.checkout.create_failed").length, 1);
  } finally {
    await wrongPrice.close();
  }
});

Deno.test("the billing portal", async () => {
  const app = await createTestApp({ payments: "simulator", env: { ADMIN_TOKEN } });
  try {
    const { cookie } = await signIn(app, "portal@example.com");
    const noCustomer = await errorOf(await post(app, "/api/stripe/portal", cookie, {}));
    assert.deepEqual(noCustomer, {
      status: 404,
      error: "no_stripe_customer",
      message: "There is no billing account yet: start a subscription first",
    });
    assert.equal((await post(app, "/api/stripe/portal", null, {})).status, 401);
    const admin = await post(app, "/api/stripe/portal", null, {}, {
      authorization: `Bearer ${ADMIN_TOKEN}`,
    });
    assert.equal(admin.status, 400);
    await admin.body?.cancel();

    const { url } = await (await post(app, "/api/stripe/checkout", cookie, {
      cadence: "annual",
      reg36Waiver: false,
    })).json();
    await pressButton(url, "Pay");
    await app.sim!.settled();
    const opened = await post(app, "/api/stripe/portal", cookie, {});
    assert.equal(opened.status, 200);
    const portal = await (await fetch((await opened.json()).url)).text();
    assert.match(portal, /http:\/\/localhost:8000\/settings/, "the portal links back to settings");

    app.sim!.failNextRequests({ count: 1, status: 500 });
    const failed = await errorOf(await post(app, "/api/stripe/portal", cookie, {}));
    assert.equal(failed.status, 502);
    assert.equal(failed.error, "stripe_error");
    assert.equal(app.logs.records("stripe.portal.create_failed").length, 1);

    // A customer Stripe no longer knows is forgotten, not an error every time.
    await app.db
      .sql`update users set stripe_customer_id = 'cus_unknown_to_stripe' where email = 'portal@example.com'`;
    const forgotten = await errorOf(await post(app, "/api/stripe/portal", cookie, {}));
    assert.equal(forgotten.status, 404);
    assert.equal(forgotten.error, "no_stripe_customer");
    const [row] = await app.db
      .sql`select stripe_customer_id from users where email = 'portal@example.com'`;
    assert.equal(row.stripeCustomerId, null);
  } finally {
    await app.close();
  }
});
