/**
 * The subscription's whole life through the app and the Stripe simulator, end to end: failed
 * cards that recover or do not, a paused trial, cancelling and resuming in the app, monthly to
 * annual, two subscriptions paid at once, one trial per person, a deleted customer, a delayed
 * payment — with access following the money throughout.
 */
import assert from "node:assert/strict";
import { createTestApp } from "../helpers/app.ts";
import { pressButton } from "../helpers/stripe.ts";
import { seededRandom } from "../helpers/random.ts";
import { reload } from "../helpers/users.ts";
import { runAdminCommand } from "../../lib/admin/commands.ts";
import {
  access,
  advance,
  checkout,
  DAY,
  person,
  postForm,
  reader,
  settings,
  subscribe,
  text,
} from "../helpers/subscribers.ts";

Deno.test("a card that fails, is retried and recovers: access throughout, a warning meanwhile", async () => {
  const app = await createTestApp({ payments: "simulator" });
  try {
    const me = await reader(app, "recovers@example.com");
    const subscription = await subscribe(app, me, "monthly");
    app.sim!.failPayments(subscription.id, 1);
    await advance(app, 31);
    assert.equal((await person(app, me)).stripeSubscriptionStatus, "past_due");
    assert.equal(await access(app, me), true, "within the grace");
    const page = text(await settings(app, me));
    assert.match(
      page,
      /Your last payment failed — update your card to keep access \(access ends on \d+ \w+ \d{4} if it isn't paid\)/,
    );
    const everyPage = await (await app.fetch("/pricing", { headers: { cookie: me.cookie } }))
      .text();
    assert.match(everyPage, /data-testid="payment-problem"/);
    assert.match(everyPage, /href="\/billing\/card"/);
    await advance(app, 3); // Stripe's retry succeeds
    assert.equal((await person(app, me)).stripeSubscriptionStatus, "active");
    assert.equal(await access(app, me), true);
    assert.doesNotMatch(await settings(app, me), /payment-problem/);
  } finally {
    await app.close();
  }
});

Deno.test("retries that end unpaid: access ends when that event lands", async () => {
  const app = await createTestApp({ payments: "simulator" });
  try {
    app.sim!.configure({ afterFailedRetries: "unpaid" });
    const me = await reader(app, "unpaid@example.com");
    const subscription = await subscribe(app, me, "monthly");
    app.sim!.failPayments(subscription.id, "until_card_updated");
    await advance(app, 31);
    await advance(app, 3);
    await advance(app, 5);
    assert.equal((await person(app, me)).stripeSubscriptionStatus, "past_due");
    assert.equal(await access(app, me), true, "eight days into the episode");
    await advance(app, 7); // the last retry fails: unpaid
    assert.equal((await person(app, me)).stripeSubscriptionStatus, "unpaid");
    assert.equal(await access(app, me), false);
    assert.match(text(await settings(app, me)), /No paid access: your subscription is unpaid/);
  } finally {
    await app.close();
  }
});

Deno.test("retries that leave it past due: access ends when the grace does, with no event", async () => {
  const app = await createTestApp({ payments: "simulator" });
  try {
    app.sim!.configure({ afterFailedRetries: "past_due" });
    const me = await reader(app, "lingers@example.com");
    const subscription = await subscribe(app, me, "monthly");
    app.sim!.failPayments(subscription.id, "until_card_updated");
    await advance(app, 31);
    const episode = (await person(app, me)).stripePastDueSince!;
    await advance(app, 13);
    assert.equal(await access(app, me), true, "13 days into the episode");
    app.sim!.advanceClock(new Date(episode.getTime() + 14 * DAY + 60_000));
    assert.equal((await person(app, me)).stripeSubscriptionStatus, "past_due", "still past due");
    assert.equal(await access(app, me), false, "but the grace is over");
  } finally {
    await app.close();
  }
});

Deno.test("a trial that ends without a card pauses: no access, no charge", async () => {
  const app = await createTestApp({ payments: "simulator" });
  try {
    const me = await reader(app, "paused@example.com");
    const subscription = await subscribe(app, me, "annual");
    assert.equal(subscription.status, "trialing");
    app.sim!.removePaymentMethod((await person(app, me)).stripeCustomerId!);
    await advance(app, 15);
    assert.equal((await person(app, me)).stripeSubscriptionStatus, "paused");
    assert.equal(await access(app, me), false);
    assert.match(text(await settings(app, me)), /No paid access: your subscription is paused/);
  } finally {
    await app.close();
  }
});

Deno.test("cancel then resume, in the app; a trial cancelled is never charged", async (t) => {
  const app = await createTestApp({ payments: "simulator" });
  try {
    const me = await reader(app, "changes@example.com");
    const subscription = await subscribe(app, me, "monthly");

    await t.step(
      "the confirmation page works without JavaScript, then settings says when it ends",
      async () => {
        const confirm = await app.fetch("/settings/cancel", { headers: { cookie: me.cookie } });
        assert.match(
          await confirm.text(),
          /You keep paid access until .* and you won&#39;t be charged again|you won't be charged again/,
        );
        const done = await postForm(app, me, "/settings/cancel");
        assert.equal(done.status, 303);
        assert.equal(done.headers.get("location"), "/settings?done=cancelled");
        await app.sim!.settled();
        const page = text(await settings(app, me));
        assert.match(page, /Ends on \d+ \w+ \d{4} \(you cancelled\)/);
        assert.match(page, /Resume subscription/);
        assert.equal(
          (await app.stripe!.subscriptions.retrieve(subscription.id)).cancel_at_period_end,
          true,
        );
      },
    );

    await t.step("cancelling twice changes nothing; resume undoes it", async () => {
      assert.equal((await postForm(app, me, "/settings/cancel")).status, 303);
      const resumed = await postForm(app, me, "/settings/resume");
      assert.equal(resumed.headers.get("location"), "/settings?done=resumed");
      await app.sim!.settled();
      assert.match(text(await settings(app, me)), /Renews on \d+ \w+ \d{4} for £7\.00/);
    });

    await t.step("a cross-site cancel is refused", async () => {
      const forged = await app.fetch("/settings/cancel", {
        method: "POST",
        headers: {
          cookie: me.cookie,
          origin: "https://evil.example",
          "content-type": "application/x-www-form-urlencoded",
        },
        body: "",
      });
      assert.equal(forged.status, 403);
      assert.equal(
        (await app.stripe!.subscriptions.retrieve(subscription.id)).cancel_at_period_end,
        false,
      );
    });

    await t.step("an annual trial cancelled ends at the trial's end without a charge", async () => {
      const trialist = await reader(app, "trialist@example.com");
      const trial = await subscribe(app, trialist, "annual");
      assert.match(
        text(await settings(app, trialist)),
        /Free trial: 14 days left — then £70\.00 on/,
      );
      await postForm(app, trialist, "/settings/cancel");
      await app.sim!.settled();
      assert.match(text(await settings(app, trialist)), /you won't be charged/);
      await advance(app, 15);
      const ended = await app.stripe!.subscriptions.retrieve(trial.id);
      assert.equal(ended.status, "canceled");
      const invoices = await app.stripe!.invoices.list({ subscription: trial.id });
      assert.ok(invoices.data.every((invoice) => invoice.amount_paid === 0), "never charged");
      assert.equal(await access(app, trialist), false);
    });
  } finally {
    await app.close();
  }
});

Deno.test("monthly → annual in the app: Stripe's preview, then the same charge", async () => {
  const app = await createTestApp({ payments: "simulator" });
  try {
    const me = await reader(app, "upgrade@example.com");
    const subscription = await subscribe(app, me, "monthly");
    await advance(app, 10);
    const preview = await app.fetch("/settings/upgrade", { headers: { cookie: me.cookie } });
    const previewHtml = await preview.text();
    const shown = /You pay <strong>£([\d.]+)<\/strong>/.exec(previewHtml);
    assert.ok(shown, previewHtml);
    const prorationDate = /name="proration_date" value="(\d+)"/.exec(previewHtml)![1];
    const done = await postForm(app, me, "/settings/upgrade", { proration_date: prorationDate });
    assert.equal(done.headers.get("location"), "/settings?done=switched");
    await app.sim!.settled();
    const switched = await app.stripe!.subscriptions.retrieve(subscription.id);
    assert.equal(switched.items.data[0].price.id, app.config.stripe.priceAnnual);
    const [latest] =
      (await app.stripe!.invoices.list({ subscription: subscription.id, limit: 1 })).data;
    assert.equal((latest.amount_paid / 100).toFixed(2), shown[1], "charged what the preview said");
    assert.ok(latest.amount_paid < 7000, "less the unused part of the month");
    assert.match(text(await settings(app, me)), /Paid \(annual\)/);
    assert.doesNotMatch(await settings(app, me), /Switch to annual/);
    const again = await app.fetch("/settings/upgrade", { headers: { cookie: me.cookie } });
    assert.match(await again.text(), /Only a monthly plan can switch to annual/);
  } finally {
    await app.close();
  }
});

for (const order of ["as they happened", "reversed", "shuffled"] as const) {
  Deno.test(`two checkouts paid at once, events ${order}: one subscription, one refund`, async () => {
    const app = await createTestApp({ payments: "simulator" });
    const random = seededRandom(`duplicates ${order}`);
    try {
      const me = await reader(app, "twotabs@example.com");
      const first = await checkout(app, me, "monthly");
      // The second tab's session, made before the first was paid (a race the app cannot see).
      const customer = (await person(app, me)).stripeCustomerId!;
      const second = await app.stripe!.checkout.sessions.create({
        mode: "subscription",
        customer,
        client_reference_id: String((await person(app, me)).id),
        line_items: [{ price: app.config.stripe.priceMonthly!, quantity: 1 }],
        success_url: "http://localhost:8000/settings",
      });
      app.sim!.holdDeliveries();
      await pressButton(first.body.url, "Pay");
      await pressButton(second.url!, "Pay");
      const held = app.sim!.heldEvents().map((event) => event.id);
      const ids = order === "reversed"
        ? [...held].reverse()
        : order === "shuffled"
        ? random.shuffle(held)
        : held;
      await app.sim!.deliverHeld(ids);
      await app.sim!.resumeDeliveries();
      await app.sim!.settled();
      assert.equal(await access(app, me), true, "paid access throughout");
      await app.jobs.wake();
      await app.sim!.settled();
      await app.jobs.wake();

      const subscriptions = await app.stripe!.subscriptions.list({ customer, status: "all" });
      const live = subscriptions.data.filter((s) => s.status !== "canceled");
      assert.equal(live.length, 1, "one live subscription");
      const [kept] = live;
      const cancelled = subscriptions.data.find((s) => s.status === "canceled")!;
      assert.ok(cancelled.created >= kept.created, "the newer one is cancelled");
      const refunds = app.sim!.events().filter((e) => e.type === "charge.refunded");
      assert.equal(refunds.length, 1, "its payment refunded, once");
      const me2 = await person(app, me);
      assert.equal(me2.stripeSubscriptionId, kept.id);
      assert.equal(await access(app, me), true);
      const [row] = await app.db.sql`
        select duplicate_of, duplicate_refunded_amount from subscriptions
        where stripe_subscription_id = ${cancelled.id}`;
      assert.deepEqual([row.duplicateOf, row.duplicateRefundedAmount], [kept.id, 700]);
      const listed = await runAdminCommand(app.services, ["user", me.email]);
      assert.ok(
        listed.lines.some((l) =>
          l.includes(`${cancelled.id}`) && l.includes(`duplicate of ${kept.id}`) &&
          l.includes("refunded £7.00")
        ),
        listed.lines.join("\n"),
      );
    } finally {
      await app.close();
    }
  });
}

Deno.test("one checkout at a time: an earlier open session expires; a live subscription refuses a second", async () => {
  const app = await createTestApp({ payments: "simulator" });
  try {
    const me = await reader(app, "onetab@example.com");
    const first = await checkout(app, me, "monthly");
    const second = await checkout(app, me, "annual");
    assert.equal(second.status, 200);
    const { response } = await pressButton(first.body.url, "Pay").catch(() => ({
      response: new Response(null, { status: 400 }),
    }));
    assert.notEqual(response.status, 303, "the first session was expired and cannot be paid");
    // Pay the second, but let only checkout.session.completed through: the guard still holds.
    app.sim!.holdDeliveries();
    await pressButton(second.body.url, "Pay");
    const completed = app.sim!.heldEvents().filter((e) => e.type === "checkout.session.completed");
    await app.sim!.deliverHeld(completed.map((e) => e.id));
    const refused = await checkout(app, me, "monthly");
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error, "already_subscribed");
    await app.sim!.resumeDeliveries();
    await app.sim!.settled();
  } finally {
    await app.close();
  }
});

Deno.test("one free trial per person: a second annual checkout after a cancelled one bills at once", async () => {
  const app = await createTestApp({ payments: "simulator" });
  try {
    const me = await reader(app, "onetrial@example.com");
    const firstTrial = await subscribe(app, me, "annual");
    assert.equal(firstTrial.status, "trialing");
    await app.stripe!.subscriptions.cancel(firstTrial.id);
    await app.sim!.settled();
    const pricing = await (await app.fetch("/pricing", { headers: { cookie: me.cookie } })).text();
    assert.match(pricing, /billed today: you have had your free trial/);
    assert.match(pricing, /Subscribe yearly/);
    assert.doesNotMatch(pricing, /Start 14-day free trial/);
    const second = await subscribe(app, me, "annual");
    assert.equal(second.status, "active", "no second trial");
    const [invoice] = (await app.stripe!.invoices.list({ subscription: second.id })).data;
    assert.equal(invoice.amount_paid, 7000);
  } finally {
    await app.close();
  }
});

Deno.test("a customer deleted in Stripe: forgotten, and the next checkout makes a new one", async () => {
  const app = await createTestApp({ payments: "simulator" });
  try {
    const me = await reader(app, "deleted@example.com");
    await subscribe(app, me, "monthly");
    const oldCustomer = (await person(app, me)).stripeCustomerId!;
    await app.stripe!.customers.del(oldCustomer);
    await app.sim!.settled();
    const after = await person(app, me);
    assert.equal(after.stripeCustomerId, null);
    assert.equal(await access(app, me), false);
    const again = await subscribe(app, me, "monthly");
    const fresh = (await person(app, me)).stripeCustomerId!;
    assert.notEqual(fresh, oldCustomer);
    assert.equal(again.customer, fresh);

    // Deleted while the app heard nothing: checkout replaces it instead of failing.
    const unheard = await reader(app, "unheard@example.com");
    const first = await checkout(app, unheard, "annual");
    assert.equal(first.status, 200);
    const stale = (await person(app, unheard)).stripeCustomerId!;
    app.sim!.holdDeliveries();
    await app.stripe!.customers.del(stale);
    const replaced = await checkout(app, unheard, "annual");
    assert.equal(replaced.status, 200, JSON.stringify(replaced.body));
    const renewed = await reload(app.db.sql, await person(app, unheard));
    assert.ok(renewed.stripeCustomerId && renewed.stripeCustomerId !== stale);
    await app.sim!.resumeDeliveries();
    await app.sim!.settled();
  } finally {
    await app.close();
  }
});

Deno.test("a delayed payment grants nothing until the money arrives", async () => {
  const app = await createTestApp({ payments: "simulator" });
  try {
    const me = await reader(app, "bank@example.com");
    const started = await checkout(app, me, "monthly");
    await pressButton(started.body.url, "Bank debit \\(settles later\\)");
    await app.sim!.settled();
    assert.equal((await person(app, me)).stripeSubscriptionStatus, "incomplete");
    assert.equal(await access(app, me), false);
    const sessionId = new URL(started.body.url).pathname.split("/").pop()!;
    app.sim!.settleDelayedPayment(sessionId, "succeeded");
    await app.sim!.settled();
    assert.equal((await person(app, me)).stripeSubscriptionStatus, "active");
    assert.equal(await access(app, me), true);
  } finally {
    await app.close();
  }
});
