/**
 * "Download my data": a referrer and the friend they invited both subscribe and earn credit;
 * each one's file holds their account, subscription, consent, referral, credit and notices — and
 * nothing that names the other.
 */
import assert from "node:assert/strict";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import {
  invitedReader,
  MASTERCARD,
  person,
  type Reader,
  reader,
  subscribe,
} from "../helpers/subscribers.ts";
import type { AccountExport } from "../../lib/account/export.ts";
import { REG36_WAIVER } from "../../lib/billing/waiver.ts";

async function download(app: TestApp, who: Reader) {
  const response = await app.fetch("/settings/export", { headers: { cookie: who.cookie } });
  const text = await response.text();
  return { response, text, data: JSON.parse(text) as Jsonified<AccountExport> };
}

/** What JSON makes of the export: dates become strings. */
type Jsonified<T> = T extends Date ? string
  : T extends (infer U)[] ? Jsonified<U>[]
  : T extends object ? { [K in keyof T]: Jsonified<T[K]> }
  : T;

Deno.test("each person's export holds their own data and no one else's address", async (t) => {
  const app = await createTestApp({ payments: "simulator" });
  try {
    const referrer = await reader(app, "Rhea.Referrer@example.com");
    await subscribe(app, referrer, "monthly");
    const friend = await invitedReader(app, referrer, "felix.friend@example.org");
    await subscribe(app, friend, "monthly", "Pay", MASTERCARD);
    const referrerRow = await person(app, referrer);
    const friendRow = await person(app, friend);
    assert.ok(referrerRow.creditUntil && friendRow.creditUntil, "both sides were credited");

    await t.step("signed out, it sends the person to sign in", async () => {
      const response = await app.fetch("/settings/export");
      assert.equal(response.status, 303);
      assert.equal(response.headers.get("location"), "/login?next=%2Fsettings%2Fexport");
    });

    await t.step("a JSON file to keep, never cached", async () => {
      const { response } = await download(app, referrer);
      assert.equal(response.status, 200);
      assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
      const day = app.services.now().toISOString().slice(0, 10);
      assert.equal(
        response.headers.get("content-disposition"),
        `attachment; filename="read-markets-data-${day}.json"`,
      );
      assert.equal(response.headers.get("cache-control"), "no-store");
    });

    await t.step(
      "the referrer's: account, subscription, consent, a friend, credit, notices",
      async () => {
        const { data } = await download(app, referrer);
        assert.equal(data.account.email, "rhea.referrer@example.com");
        assert.equal(data.account.referralCode, referrerRow.referralCode);
        assert.equal(
          data.account.referralLink,
          `http://localhost:8000/r/${referrerRow.referralCode}`,
        );
        assert.equal(data.account.creditUntil, referrerRow.creditUntil!.toISOString());
        assert.equal(data.account.paidAccessNow, true);
        assert.equal(data.account.tier, "paid");
        assert.equal(data.subscriptions.length, 1);
        assert.equal(data.subscriptions[0].plan, "monthly");
        // The friend's credit moved the next payment: to Stripe, a trial until then.
        assert.equal(data.subscriptions[0].status, "trialing");
        assert.equal(data.subscriptions[0].amount, 700);
        assert.equal(data.consents.length, 1);
        const [consent] = data.consents;
        assert.equal(consent.kind, "reg36_waiver");
        assert.equal(consent.textVersion, REG36_WAIVER.version);
        assert.equal(consent.text, REG36_WAIVER.text);
        assert.equal(consent.ip, "127.0.0.1");
        assert.match(consent.checkoutSessionId ?? "", /^cs_/);
        assert.equal(data.referrals.invitedBy, null);
        assert.equal(data.referrals.invited.length, 1);
        assert.equal(data.referrals.invited[0].reward, "credited");
        assert.ok(data.referrals.invited[0].firstPaymentAt);
        assert.deepEqual(
          data.credit.map((c) => [c.days, c.reason, c.entry]),
          [[45, "referral_referrer", "added"]],
        );
        assert.ok(
          data.notices.some((n) =>
            n.kind === "referral_reward" && n.to === referrer.email.toLowerCase()
          ),
          JSON.stringify(data.notices),
        );
      },
    );

    await t.step('the friend\'s: invited by "a friend", their own credit', async () => {
      const { data } = await download(app, friend);
      assert.equal(data.account.email, "felix.friend@example.org");
      assert.equal(data.referrals.invitedBy?.by, "a friend");
      assert.equal(data.referrals.invitedBy?.reward, "credited");
      assert.deepEqual(data.referrals.invited, []);
      assert.deepEqual(
        data.credit.map((c) => [c.days, c.reason, c.entry]),
        [[45, "referral_buyer", "added"]],
      );
      assert.ok(data.notices.some((n) => n.kind === "referral_reward"));
    });

    await t.step("neither file names the other person", async () => {
      const mine = (await download(app, referrer)).text.toLowerCase();
      const theirs = (await download(app, friend)).text.toLowerCase();
      for (const needle of ["felix.friend@example.org", "felix.friend", "example.org"]) {
        assert.ok(!mine.includes(needle), `the referrer's file mentions ${needle}`);
      }
      for (const needle of ["rhea.referrer@example.com", "rhea.referrer"]) {
        assert.ok(!theirs.includes(needle), `the friend's file mentions ${needle}`);
      }
      assert.ok(
        !theirs.includes(referrerRow.referralCode.toLowerCase()),
        "the friend's file shows the referrer's code",
      );
    });
  } finally {
    await app.close();
  }
});
