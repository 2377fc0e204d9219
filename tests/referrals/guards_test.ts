/**
 * What keeps the referral programme from paying people to refer themselves: addresses compared
 * as one mailbox, a payment with the referrer's own card held for an operator, and at most
 * `REFERRAL_REWARDS_PER_YEAR` rewards a referrer earns in any 365 days.
 */
import assert from "node:assert/strict";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { cookieFrom, signIn } from "../helpers/auth.ts";
import { assertLedgerExplainsCredit } from "../helpers/ledger.ts";
import { testClock } from "../helpers/clock.ts";
import { deliverOk, invoiceObject, stripeEvent, WEBHOOK_SECRET } from "../helpers/stripe_events.ts";
import { createUser, reload } from "../helpers/users.ts";
import {
  DAY,
  invitedReader,
  MASTERCARD,
  reader,
  settings,
  settle,
  subscribe,
  text,
} from "../helpers/subscribers.ts";
import { canonicalEmail } from "../../lib/referrals/canonical_email.ts";
import { runAdminCommand } from "../../lib/admin/commands.ts";

Deno.test("addresses are one mailbox however they are spelled", () => {
  const same = [
    ["me@gmail.com", "me@gmail.com"],
    ["Me+1@Gmail.com", "me@gmail.com"],
    ["m.e@gmail.com", "me@gmail.com"],
    ["M.E+news@googlemail.com", "me@gmail.com"],
    ["reader+tag@example.com", "reader@example.com"],
  ];
  for (const [spelled, canonical] of same) assert.equal(canonicalEmail(spelled), canonical);
  // Dots matter outside Gmail; a leading "+" is the whole local part, not a tag.
  assert.equal(canonicalEmail("m.e@example.com"), "m.e@example.com");
  assert.equal(canonicalEmail("+me@example.com"), "+me@example.com");
});

Deno.test("me+1@gmail.com and m.e@gmail.com cannot earn from me@gmail.com's link", async () => {
  const app = await createTestApp();
  try {
    await signIn(app, "me@gmail.com");
    const [{ referralCode }] = await app.db
      .sql`select referral_code from users where email = 'me@gmail.com'`;
    const joinThroughLink = async (email: string) => {
      const referralCookie = cookieFrom(await app.fetch(`/r/${referralCode}`), "rm_ref")!;
      await signIn(app, email, { cookie: referralCookie });
    };
    for (const alias of ["me+1@gmail.com", "m.e@gmail.com", "ME@googlemail.com"]) {
      await joinThroughLink(alias);
    }
    const [{ count: aliases }] = await app.db.sql`select count(*)::int from referrals`;
    assert.equal(aliases, 0, "no referral for the same mailbox");
    await joinThroughLink("a.friend@gmail.com");
    const [{ count }] = await app.db.sql`select count(*)::int from referrals`;
    assert.equal(count, 1, "a real friend is still referred");
  } finally {
    await app.close();
  }
});

Deno.test("a friend paying with the referrer's card is held; an operator approves it once", async () => {
  const app = await createTestApp({ payments: "simulator", env: { ADMIN_TOKEN: "x".repeat(40) } });
  try {
    const referrer = await reader(app, "holder@example.com");
    await subscribe(app, referrer, "monthly"); // pays with the Visa 4242
    const friend = await invitedReader(app, referrer, "second-self@example.com");
    await subscribe(app, friend, "monthly"); // the same Visa
    const [held] = await app.db.sql`select id, reward_status, hold_reason from referrals`;
    assert.deepEqual([held.rewardStatus, held.holdReason], ["held", "same_card"]);
    const [{ count: grants }] = await app.db.sql`select count(*)::int from credit_grants`;
    assert.equal(grants, 0, "nothing credited while held");
    assert.match(text(await settings(app, referrer)), /One reward is waiting for a check/);

    const listed = await runAdminCommand(app.services, ["referrals", "--held"]);
    assert.equal(listed.code, 0);
    assert.match(
      listed.lines.join("\n"),
      new RegExp(`^${held.id} .*holder@example\\.com → second-self@example\\.com .*HELD`, "m"),
    );

    const approved = await runAdminCommand(app.services, ["approve-referral", String(held.id)]);
    assert.deepEqual(approved, { code: 0, lines: [`referral ${held.id}: credited`] });
    const again = await runAdminCommand(app.services, ["approve-referral", String(held.id)]);
    assert.equal(again.code, 1);
    assert.match(again.lines[0], /is not held \(it is credited\)/);
    await settle(app);
    const [{ count: credited }] = await app.db.sql`select count(*)::int from credit_grants`;
    assert.equal(credited, 2, "both sides, once");
    assert.match(text(await settings(app, referrer)), /\(moved 45 days by referral credit\)/);
    await assertLedgerExplainsCredit(app.db.sql);
  } finally {
    await app.close();
  }
});

Deno.test("a card the referrer has on file but never paid with is held too", async () => {
  const app = await createTestApp({ payments: "simulator" });
  try {
    const referrer = await reader(app, "trialist@example.com");
    // An annual trial: the Mastercard is on file, nothing has been charged to it yet.
    await subscribe(app, referrer, "annual", "Pay", MASTERCARD);
    const friend = await invitedReader(app, referrer, "trial-friend@example.com");
    await subscribe(app, friend, "monthly", "Pay", MASTERCARD);
    const [referral] = await app.db.sql`select reward_status from referrals`;
    assert.equal(referral.rewardStatus, "held");
  } finally {
    await app.close();
  }
});

Deno.test("the 13th reward in a year is not credited to the referrer; the friend still gets theirs", async () => {
  const clock = testClock(new Date("2027-03-01T09:00:00Z"));
  const app = await createTestApp({
    env: { STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET },
    now: clock.now,
  });
  try {
    const referrer = await createUser(app.db.sql);
    const friendPays = async () => {
      const friend = await createUser(app.db.sql, { referredBy: referrer });
      await deliverOk(
        app,
        stripeEvent(
          "invoice.paid",
          invoiceObject(friend.stripeCustomerId!, 700, "subscription_create"),
        ),
      );
      clock.advance(DAY);
      return friend;
    };
    for (let i = 0; i < 12; i++) await friendPays();
    const thirteenth = await friendPays();

    const sides = await app.db.sql`
      select reason, count(*)::int from credit_grants group by reason order by reason`;
    assert.deepEqual(sides.map((s) => [s.reason, s.count]), [
      ["referral_buyer", 13],
      ["referral_referrer", 12],
    ]);
    const [capped] = await app.db.sql`
      select reward_status, referrer_capped from referrals
      where referred_user_id = ${thirteenth.id}`;
    assert.deepEqual([capped.rewardStatus, capped.referrerCapped], ["credited", true]);
    assert.ok((await reload(app.db.sql, thirteenth)).creditUntil);
    const page = text(await settingsOf(app, referrer.email));
    assert.match(
      page,
      /You've had 12 of the 12 referral rewards a year can bring; 1 friend's payment since then earned you nothing \(your friends still got their 45 days\)\. Your next reward can come from 29 February 2028\./,
    );

    // A year after the first reward, the referrer earns again.
    clock.advance(365 * DAY);
    await friendPays();
    const [{ count }] = await app.db.sql`
      select count(*)::int from credit_grants where reason = 'referral_referrer'`;
    assert.equal(count, 13);
    await assertLedgerExplainsCredit(app.db.sql);
  } finally {
    await app.close();
  }
});

Deno.test("an operator voids a credited referral: both sides' days taken back, for good", async () => {
  const app = await createTestApp({ env: { STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET } });
  try {
    const referrer = await createUser(app.db.sql);
    const friend = await createUser(app.db.sql, { referredBy: referrer });
    await deliverOk(
      app,
      stripeEvent(
        "invoice.paid",
        invoiceObject(friend.stripeCustomerId!, 700, "subscription_create"),
      ),
    );
    const [{ id }] = await app.db.sql`select id from referrals`;
    const missing = await runAdminCommand(app.services, ["void-referral", String(id)]);
    assert.equal(missing.code, 1);
    assert.match(missing.lines[0], /--reason is required/);
    const voided = await runAdminCommand(app.services, [
      "void-referral",
      String(id),
      "--reason",
      "the same person",
    ]);
    assert.equal(voided.code, 0, voided.lines.join("\n"));
    const [referral] = await app.db.sql`select reward_status, reversal_cause from referrals`;
    assert.deepEqual([referral.rewardStatus, referral.reversalCause], [
      "voided",
      "voided: the same person",
    ]);
    const [{ reversals }] = await app.db.sql`
      select count(*)::int as reversals from credit_grants where days < 0`;
    assert.equal(reversals, 2);
    const again = await runAdminCommand(app.services, [
      "void-referral",
      String(id),
      "--reason",
      "x",
    ]);
    assert.equal(again.code, 1);
    assert.match(again.lines[0], /no reward to void \(it is voided\)/);
    for (const who of [referrer, friend]) {
      assert.ok((await reload(app.db.sql, who)).creditUntil! <= app.services.now());
    }
    await assertLedgerExplainsCredit(app.db.sql);
  } finally {
    await app.close();
  }
});

async function settingsOf(app: TestApp, email: string): Promise<string> {
  const { cookie } = await signIn(app, email);
  return await (await app.fetch("/settings", { headers: { cookie } })).text();
}
