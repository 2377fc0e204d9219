/**
 * The notices, end to end: the event or change that owes one, the durable job, a real SMTP
 * server (started by the test), and what arrived — recipient, subject, the dates and amounts in
 * both parts, the links.
 */
import assert from "node:assert/strict";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { DAY, testClock } from "../helpers/clock.ts";
import { type SmtpSink, startSmtpSink } from "../helpers/smtp.ts";
import {
  deliverOk,
  invoiceObject,
  stripeEvent,
  subscriptionObject,
  WEBHOOK_SECRET,
} from "../helpers/stripe_events.ts";
import { createUser } from "../helpers/users.ts";
import { connect, withTransaction } from "../../lib/db/client.ts";
import { createJobRunner } from "../../lib/jobs/runner.ts";
import { JOB_HANDLERS } from "../../lib/jobs/handlers.ts";
import { grantCredit } from "../../lib/referrals/credits.ts";
import { enqueueNotice } from "../../lib/notices/send.ts";

const START = new Date("2027-03-01T09:00:00Z");
const unix = (date: Date) => Math.floor(date.getTime() / 1000);
const ANNUAL = "price_annual_test";
const MONTHLY = "price_monthly_test";

async function noticesApp(now: () => Date): Promise<{ app: TestApp; smtp: SmtpSink }> {
  const smtp = await startSmtpSink();
  const app = await createTestApp({
    now,
    env: {
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      EMAIL_TRANSPORT: "smtp",
      SMTP_URL: smtp.url,
      EMAIL_FROM: "read.markets <notices@read.markets>",
      STRIPE_PRICE_MONTHLY: MONTHLY,
      STRIPE_PRICE_ANNUAL: ANNUAL,
      SITE_URL: "https://read.markets.test",
    },
  });
  return { app, smtp };
}

function priced(price: string, amount: number, extra: Record<string, unknown> = {}) {
  return {
    items: {
      data: [{
        id: "si_test",
        price: { id: price, object: "price", unit_amount: amount, currency: "gbp" },
        quantity: 1,
        ...extra,
      }],
    },
  };
}

/** Both parts say it: the text part verbatim, the HTML part once tags and entities are gone. */
function assertSays(mail: { text: string; html: string }, ...phrases: string[]) {
  const html = mail.html.replace(/<[^>]+>/g, " ").replaceAll("&#39;", "'").replaceAll("&amp;", "&")
    .replace(/\s+/g, " ");
  for (const phrase of phrases) {
    assert.ok(mail.text.includes(phrase), `text part lacks "${phrase}":\n${mail.text}`);
    assert.ok(html.includes(phrase), `HTML part lacks "${phrase}":\n${html}`);
  }
}

function assertLinks(mail: { text: string; html: string }, url: string) {
  assert.ok(mail.text.includes(url), `text part lacks ${url}`);
  assert.ok(mail.html.includes(`href="${url}"`), `HTML part lacks a link to ${url}`);
}

Deno.test("trial ending, renewal coming, payment failed, cancellation: each sent once, from its event", async (t) => {
  const clock = testClock(START);
  const { app, smtp } = await noticesApp(clock.now);
  try {
    const user = await createUser(app.db.sql, { email: "reader@example.com" });
    const c = user.stripeCustomerId!;
    const trialEnd = unix(new Date("2027-03-21T09:00:00Z"));
    const annual = subscriptionObject("sub_annual", c, "trialing", {
      created: unix(START),
      trial_end: trialEnd,
      ...priced(ANNUAL, 7000, { current_period_end: trialEnd }),
    });
    await deliverOk(
      app,
      stripeEvent("customer.subscription.created", annual, { created: unix(START) }),
    );

    await t.step(
      "trial ending: the first charge's date, the amount, a one-step cancel",
      async () => {
        const event = stripeEvent("customer.subscription.trial_will_end", annual, {
          created: unix(START) + 100,
        });
        // Stripe delivers it five times, some at once.
        await Promise.all([1, 2, 3].map(() => deliverOk(app, event)));
        await deliverOk(app, event);
        await deliverOk(app, event);
        await app.jobs.wake();
        const [mail] = await smtp.received(1);
        assert.deepEqual(mail.to, ["reader@example.com"]);
        assert.match(mail.from, /notices@read\.markets/);
        assert.equal(mail.subject, "Your free trial ends on 21 March 2027");
        assertSays(mail, "21 March 2027", "£70.00", "annual plan");
        assertLinks(mail, "https://read.markets.test/settings/cancel");
        assert.equal(smtp.messages.length, 1, "once, for five deliveries");
      },
    );

    await t.step("renewal coming (annual): date, amount, cancel link", async () => {
      const renews = unix(new Date("2028-03-21T09:00:00Z"));
      const upcoming = stripeEvent("invoice.upcoming", {
        ...invoiceObject(c, 0, "upcoming", "sub_annual"),
        id: null,
        amount_due: 7000,
        currency: "gbp",
        next_payment_attempt: renews,
        period_end: renews,
      }, { created: unix(START) + 200 });
      await deliverOk(app, upcoming);
      await app.jobs.wake();
      const [, mail] = await smtp.received(2);
      assert.equal(mail.subject, "Your annual subscription renews on 21 March 2028");
      assertSays(mail, "21 March 2028", "£70.00");
      assertLinks(mail, "https://read.markets.test/settings/cancel");
    });

    await t.step("cancellation confirmed: the end date and how to resume", async () => {
      const cancelled = stripeEvent("customer.subscription.updated", {
        ...annual,
        cancel_at_period_end: true,
      }, { created: unix(START) + 300 });
      await deliverOk(app, cancelled);
      await deliverOk(app, cancelled);
      await app.jobs.wake();
      const [, , mail] = await smtp.received(3);
      assert.equal(mail.subject, "Your subscription is cancelled");
      assertSays(mail, "You keep paid access until 21 March 2027", "you will not be charged");
      assertLinks(mail, "https://read.markets.test/settings");
      assert.equal(smtp.messages.length, 3);
    });

    await t.step(
      "payment failed: what, when Stripe tries again, when access ends, the card link",
      async () => {
        const monthly = await createUser(app.db.sql, { email: "monthly@example.com" });
        const m = monthly.stripeCustomerId!;
        const failedAt = unix(new Date("2027-03-03T09:00:00Z"));
        await deliverOk(
          app,
          stripeEvent(
            "customer.subscription.updated",
            subscriptionObject("sub_m", m, "past_due", {
              created: unix(START),
              ...priced(MONTHLY, 700),
            }),
            { created: failedAt },
          ),
        );
        await deliverOk(
          app,
          stripeEvent("invoice.payment_failed", {
            ...invoiceObject(m, 0, "subscription_cycle", "sub_m"),
            amount_due: 700,
            currency: "gbp",
            attempt_count: 1,
            next_payment_attempt: unix(new Date("2027-03-06T09:00:00Z")),
          }, { created: failedAt }),
        );
        await app.jobs.wake();
        const [mail] = smtp.to("monthly@example.com");
        assert.equal(mail.subject, "Your payment didn't go through");
        assertSays(
          mail,
          "£7.00",
          "We will try again on 6 March 2027",
          "Your paid access ends on 17 March 2027",
        );
        assertLinks(mail, "https://read.markets.test/billing/card");
      },
    );

    const recorded = await app.db.sql`select kind, to_address, message_id from notices order by id`;
    assert.deepEqual(recorded.map((n) => n.kind), [
      "trial_ending",
      "renewal_coming",
      "cancellation_confirmed",
      "payment_failed",
    ]);
    assert.ok(recorded.every((n) => n.messageId), "the transport's message id is kept");
  } finally {
    await app.close();
    await smtp.close();
  }
});

Deno.test("referral reward to both sides; the referrer is not told who", async () => {
  const { app, smtp } = await noticesApp(() => START);
  try {
    const referrer = await createUser(app.db.sql, { email: "referrer@example.com" });
    const buyer = await createUser(app.db.sql, {
      email: "friend@example.com",
      referredBy: referrer,
    });
    const paid = stripeEvent(
      "invoice.paid",
      invoiceObject(buyer.stripeCustomerId!, 700, "subscription_create"),
    );
    await Promise.all([deliverOk(app, paid), deliverOk(app, paid)]);
    await app.jobs.wake();
    await smtp.received(2);
    const [toReferrer] = smtp.to("referrer@example.com");
    const [toBuyer] = smtp.to("friend@example.com");
    assert.equal(toReferrer.subject, "+45 days of paid access on read.markets");
    assertSays(toReferrer, "A friend you invited", "15 April 2027");
    assert.ok(!toReferrer.data.includes("friend@example.com"), "never the friend's address");
    assertSays(toBuyer, "+45 days", "15 April 2027");
    assert.equal(smtp.messages.length, 2);
  } finally {
    await app.close();
    await smtp.close();
  }
});

Deno.test("credit ending: three days before credit-only access ends, unless it was extended", async () => {
  const clock = testClock(START);
  const { app, smtp } = await noticesApp(clock.now);
  try {
    const ending = await createUser(app.db.sql, { email: "ending@example.com" });
    const extended = await createUser(app.db.sql, { email: "extended@example.com" });
    for (const person of [ending, extended]) {
      await withTransaction(
        app.db.sql,
        (tx) =>
          grantCredit(tx, { userId: person.id, days: 10, reason: "admin_grant" }, clock.now()),
      );
    }
    await app.jobs.wake();
    assert.equal(smtp.messages.length, 0, "not before its time");
    clock.advance(2 * DAY);
    await withTransaction(
      app.db.sql,
      (tx) => grantCredit(tx, { userId: extended.id, days: 5, reason: "admin_grant" }, clock.now()),
    );
    clock.advance(5 * DAY + 1000);
    await app.jobs.wake();
    const [mail] = await smtp.received(1);
    assert.deepEqual(mail.to, ["ending@example.com"]);
    assert.equal(mail.subject, "Your paid access ends on 11 March 2027");
    assertSays(mail, "11 March 2027");
    assertLinks(mail, "https://read.markets.test/pricing");
    clock.advance(10 * DAY);
    await app.jobs.wake();
    const toExtended = smtp.to("extended@example.com");
    assert.equal(toExtended.length, 1, "one warning, for the credit as extended");
    assert.equal(toExtended[0].subject, "Your paid access ends on 16 March 2027");
  } finally {
    await app.close();
    await smtp.close();
  }
});

Deno.test("monthly plans: a renewal reminder every six months, scheduled by the app", async () => {
  const clock = testClock(START);
  const { app, smtp } = await noticesApp(clock.now);
  try {
    const user = await createUser(app.db.sql, { email: "monthly@example.com" });
    const c = user.stripeCustomerId!;
    const subscription = (periodEnd: Date) =>
      subscriptionObject("sub_mo", c, "active", {
        created: unix(START),
        ...priced(MONTHLY, 700, { current_period_end: unix(periodEnd) }),
      });
    await deliverOk(
      app,
      stripeEvent("customer.subscription.created", subscription(new Date("2027-04-01T09:00:00Z")), {
        created: unix(START),
      }),
    );
    const [job] = await app.db.sql`select run_at from jobs where key like 'renewal_coming:%'`;
    assert.deepEqual(job.runAt, new Date("2027-08-25T09:00:00Z"), "a week before month six ends");
    // Months pass; Stripe tells the app of each renewal.
    await deliverOk(
      app,
      stripeEvent("customer.subscription.updated", subscription(new Date("2027-09-01T09:00:00Z")), {
        created: unix(new Date("2027-08-01T09:00:00Z")),
      }),
    );
    clock.advance(178 * DAY);
    await app.jobs.wake();
    const [mail] = await smtp.received(1);
    assert.equal(mail.subject, "Your monthly subscription renews on 1 September 2027");
    assertSays(mail, "£7.00");
    const [next] = await app.db.sql`
      select run_at from jobs where key like 'renewal_coming:%' and done_at is null`;
    assert.deepEqual(next.runAt, new Date("2028-02-23T09:00:00Z"), "the next, six months on");
  } finally {
    await app.close();
    await smtp.close();
  }
});

Deno.test("a mail server refusing the first attempts: the notice is retried and arrives once", async () => {
  const clock = testClock(START);
  const { app, smtp } = await noticesApp(clock.now);
  try {
    smtp.refuseNext(2);
    const user = await createUser(app.db.sql, { email: "patient@example.com" });
    await withTransaction(
      app.db.sql,
      (tx) => grantCredit(tx, { userId: user.id, days: 2, reason: "admin_grant" }, clock.now()),
    );
    await app.jobs.wake();
    assert.equal(smtp.refused(), 1);
    const [job] = await app.db.sql`select attempts, last_error, run_at from jobs`;
    assert.equal(job.attempts, 1);
    assert.match(job.lastError, /451|try again later/);
    clock.advance(30_000);
    await app.jobs.wake();
    assert.equal(smtp.refused(), 2);
    clock.advance(60_000);
    await app.jobs.wake();
    assert.equal(smtp.messages.length, 1);
    clock.advance(DAY);
    await app.jobs.wake();
    assert.equal(smtp.messages.length, 1, "once");
    const [done] = await app.db.sql`select attempts, done_at from jobs`;
    assert.equal(done.attempts, 3);
    assert.ok(done.doneAt);
  } finally {
    await app.close();
    await smtp.close();
  }
});

Deno.test("a notice already sent, or for nobody, is not sent: the job finishes without mail", async () => {
  const clock = testClock(START);
  const { app, smtp } = await noticesApp(clock.now);
  try {
    const user = await createUser(app.db.sql, { email: "once@example.com" });
    const owed = (userId: number, trigger: string) =>
      withTransaction(app.db.sql, (tx) =>
        enqueueNotice(tx, {
          kind: "cancellation_confirmed",
          userId,
          trigger,
          data: { endsOn: null, trial: false },
        }, clock.now()));
    // Sent already: a runner that died after sending left its job to be run again.
    await app.db.sql`
      insert into notices (kind, user_id, trigger, to_address, sent_at, message_id)
      values ('cancellation_confirmed', ${user.id}, 'sub_sent:cancelled', 'once@example.com',
              ${clock.now()}, '<sent@test>')`;
    await owed(user.id, "sub_sent:cancelled");
    await owed(user.id + 1000, "sub_nobody:cancelled");
    await app.jobs.wake();
    assert.equal(smtp.messages.length, 0);
    const skipped = app.logs.records("notice.skipped");
    assert.deepEqual(skipped.map((r) => [r.trigger, r.reason]), [
      ["sub_nobody:cancelled", "no such person"],
    ]);
    const jobs = await app.db.sql`select done_at from jobs`;
    assert.equal(jobs.length, 2);
    assert.ok(jobs.every((job) => job.doneAt), "both jobs are done");
  } finally {
    await app.close();
    await smtp.close();
  }
});

Deno.test("a batch of notices reads its recipients in one statement, each mail to its own person", async () => {
  const clock = testClock(START);
  const { app, smtp } = await noticesApp(clock.now);
  const sent: string[] = [];
  const traced = connect(app.db.url, { max: 2, onQuery: (statement) => sent.push(statement) });
  try {
    const people = [];
    for (let i = 0; i < 5; i++) {
      people.push(await createUser(app.db.sql, { email: `batch${i}@example.com` }));
    }
    for (const person of people) {
      await withTransaction(app.db.sql, (tx) =>
        enqueueNotice(tx, {
          kind: "cancellation_confirmed",
          userId: person.id,
          trigger: `sub_batch_${person.id}:cancelled`,
          data: { endsOn: null, trial: false },
        }, clock.now()));
    }
    const runner = createJobRunner({ ...app.services, db: traced }, JOB_HANDLERS);
    await runner.wake();
    const recipientReads = sent.filter((statement) => /users\.id = owed\.user_id/.test(statement));
    assert.equal(recipientReads.length, 1, "one read for the five recipients");
    assert.deepEqual(
      smtp.messages.flatMap((message) => message.to).sort(),
      people.map((person) => person.email).sort(),
    );
    const [{ recorded }] = await app.db.sql`select count(*)::int as recorded from notices`;
    assert.equal(recorded, 5);
  } finally {
    await traced.end();
    await app.close();
    await smtp.close();
  }
});

Deno.test("a cancellation is acknowledged only when its event is recorded: a stale one owes nothing", async () => {
  const clock = testClock(START);
  const { app, smtp } = await noticesApp(clock.now);
  try {
    const user = await createUser(app.db.sql, { email: "stale@example.com" });
    const c = user.stripeCustomerId!;
    const at = (seconds: number) => ({ created: unix(START) + seconds });
    const subscription = (cancel: boolean) =>
      subscriptionObject("sub_stale", c, "active", {
        cancel_at_period_end: cancel,
        ...priced(ANNUAL, 9900, { current_period_end: unix(START) + 365 * 86_400 }),
      });
    const cancellationJobs = async () => {
      const [{ jobs }] = await app.db.sql`
        select count(*)::int as jobs from jobs where key like 'cancellation_confirmed:%'`;
      return jobs;
    };
    const created = stripeEvent("customer.subscription.created", subscription(false), at(0));
    assert.equal(await deliverOk(app, created), "ok");
    const newer = stripeEvent("customer.subscription.updated", subscription(false), at(300));
    assert.equal(await deliverOk(app, newer), "ok");

    // Older than what is recorded: it changes nothing, so it owes no acknowledgement.
    const stale = stripeEvent("customer.subscription.updated", subscription(true), at(200));
    assert.equal(await deliverOk(app, stale), "ok");
    assert.equal(app.logs.records("stripe.stale_event").length, 1);
    assert.equal(await cancellationJobs(), 0);

    const cancelled = stripeEvent("customer.subscription.updated", subscription(true), at(400));
    assert.equal(await deliverOk(app, cancelled), "ok");
    assert.equal(await cancellationJobs(), 1);
    await app.jobs.wake();
    assert.equal(smtp.messages.length, 1);
    assert.deepEqual(smtp.messages[0].to, ["stale@example.com"]);
  } finally {
    await app.close();
    await smtp.close();
  }
});
