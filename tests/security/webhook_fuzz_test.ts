/**
 * Hostile deliveries to the Stripe webhook: missing, garbled, stale and forged signatures,
 * truncated and non-JSON bodies, broken envelopes, known events with wrongly typed or missing
 * fields, unicode and control characters, huge bodies. Each answer must be a 4xx or one of the
 * documented 200s (`ok`, `duplicate`, `ignored`, `handler_error`), never a 5xx, and the only rows
 * written are audit rows of validly signed, well-formed events.
 */
import assert from "node:assert/strict";
import { createTestApp } from "../helpers/app.ts";
import { type Random, seededRandom } from "../helpers/random.ts";
import { headerText, mutate, nastyString, nastyValue, randomText } from "../helpers/fuzz.ts";
import {
  checkoutSessionObject,
  invoiceObject,
  signedHeaders,
  stripeEvent,
  subscriptionObject,
  WEBHOOK_SECRET,
} from "../helpers/stripe_events.ts";
import { WEBHOOK_MAX_BYTES } from "../../lib/billing/webhook/receive.ts";

const CASES = 3000;

type Expectation =
  | { refused: number[] }
  /** Validly signed and well-formed: an audit row, and one of these outcomes. */
  | { recorded: string; outcomes: string[] }
  | { duplicate: true };

interface Case {
  label: string;
  body: string;
  headers: Record<string, string>;
  expect: Expectation;
}

const KNOWN_OBJECTS: Record<string, () => Record<string, unknown>> = {
  "checkout.session.completed": () =>
    checkoutSessionObject({
      client_reference_id: "42",
      customer: "cus_fuzz",
      subscription: "sub_fuzz",
    }),
  "customer.subscription.created": () =>
    subscriptionObject("sub_fuzz", "cus_fuzz", "trialing", {
      trial_end: 1_900_000_000,
      items: { data: [{ price: { id: "price_fuzz" } }] },
    }),
  "customer.subscription.updated": () =>
    subscriptionObject("sub_fuzz", "cus_fuzz", "active", { cancel_at_period_end: true }),
  "customer.subscription.deleted": () => subscriptionObject("sub_fuzz", "cus_fuzz", "canceled"),
  "invoice.paid": () => invoiceObject("cus_fuzz", 700, "subscription_create", "sub_fuzz"),
  "invoice.payment_failed": () => invoiceObject("cus_fuzz", 0, "subscription_cycle", "sub_fuzz"),
  "charge.refunded": () => ({
    id: "ch_fuzz",
    object: "charge",
    customer: "cus_fuzz",
    amount: 700,
    amount_refunded: 700,
    refunded: true,
  }),
  "charge.dispute.created": () => ({
    id: "dp_fuzz",
    object: "dispute",
    charge: "ch_fuzz",
    status: "needs_response",
  }),
  "charge.dispute.closed": () => ({
    id: "dp_fuzz",
    object: "dispute",
    charge: "ch_fuzz",
    status: "won",
  }),
};
const KNOWN_TYPES = Object.keys(KNOWN_OBJECTS);
/** Types no handler exists for, including names every JavaScript object has. */
const UNKNOWN_TYPES = [
  "customer.created",
  "customer.tax_id.created",
  "constructor",
  "__proto__",
  "toString",
  "hasOwnProperty",
  "valueOf",
  "invoice.paid ",
  "INVOICE.PAID",
  "invoice.paid.extra",
  "ünïcödé.event",
  "😀",
];

function garbledSignature(random: Random, body: string): string {
  const t = Math.floor(Date.now() / 1000);
  const hex = () => Array.from({ length: 64 }, () => random.int(16).toString(16)).join("");
  return random.pick([
    () => "garbage",
    () => "t=,v1=",
    () => `t=${t}`,
    () => `v1=${hex()}`,
    () => `t=${t},v1=${hex()}`,
    () => `t=${t},v0=${hex()}`,
    () => `t=abc,v1=${hex()}`,
    () => `t=-1,v1=${hex()}`,
    () => `t=1e400,v1=${hex()}`,
    () => `t=${t},v1=${body.length}`,
    () => ",".repeat(random.between(1, 5000)),
    () => `t=${t},${"v1=,".repeat(2000)}`,
    () => headerText(random, random.between(1, 300)),
  ])();
}

let counter = 0;
const nextId = () => `evt_fuzz_${++counter}`;

function knownEvent(random: Random) {
  const type = random.pick(KNOWN_TYPES);
  return stripeEvent(type, KNOWN_OBJECTS[type](), { id: nextId() });
}

async function makeCase(random: Random, recorded: Case[]): Promise<Case> {
  const roll = random.int(100);
  const refused = (
    label: string,
    body: string,
    headers: Record<string, string>,
    statuses: number[],
  ) => ({ label, body, headers, expect: { refused: statuses } });
  const validBody = JSON.stringify(knownEvent(random));

  if (roll < 6) {
    return refused("no signature", validBody, { "content-type": "application/json" }, [400]);
  }
  if (roll < 18) {
    const signature = garbledSignature(random, validBody);
    return refused(`garbled signature ${JSON.stringify(signature.slice(0, 40))}`, validBody, {
      "stripe-signature": signature,
    }, [400, 401]);
  }
  if (roll < 23) {
    return refused(
      "another secret",
      validBody,
      await signedHeaders(validBody, {
        secret: `whsec_${nastyString(random).replace(/\W/g, "")}x`,
      }),
      [401],
    );
  }
  if (roll < 29) {
    const tampered = JSON.stringify(mutate(random, JSON.parse(validBody)));
    const headers = await signedHeaders(validBody);
    if (tampered === validBody) return refused("unchanged, unsigned", validBody, {}, [400]);
    return refused("signature over other bytes", tampered, headers, [401]);
  }
  if (roll < 33) {
    const skew = random.pick([-1, 1]) * random.between(301, 10_000_000);
    const timestamp = Math.floor(Date.now() / 1000) + skew;
    return refused(
      `timestamp ${skew}s off`,
      validBody,
      await signedHeaders(validBody, { timestamp }),
      [
        401,
      ],
    );
  }
  if (roll < 40) {
    const cut = validBody.slice(0, random.int(validBody.length));
    return refused(`signed, truncated at ${cut.length}`, cut, await signedHeaders(cut), [400]);
  }
  if (roll < 45) {
    const junk = random.chance(0.5)
      ? randomText(random, random.between(1, 200))
      : JSON.stringify(nastyValue(random));
    let isObject = false;
    try {
      const parsed = JSON.parse(junk);
      isObject = parsed !== null && typeof parsed === "object" && !Array.isArray(parsed);
    } catch {
      // Not JSON at all: the expected case.
    }
    if (isObject) {
      return refused("signed object without an envelope", junk, await signedHeaders(junk), [400]);
    }
    return refused("signed garbage", junk, await signedHeaders(junk), [400]);
  }
  if (roll < 57) {
    const event = JSON.parse(validBody);
    const field = random.pick(["id", "type", "created", "data", "object"]);
    const broken = field === "object"
      ? { ...event, data: { object: random.pick([null, [], "x", 1, [{}]]) } }
      : random.chance(0.3)
      ? Object.fromEntries(Object.entries(event).filter(([key]) => key !== field))
      : {
        ...event,
        [field]: field === "id" || field === "type"
          ? random.pick([
            "",
            "x".repeat(256),
            `evt_${random.pick(["\u0000", "\n", "\u0007", "\u001f", "\u007f"])}${counter}`,
            null,
            42,
            [],
          ])
          : field === "created"
          ? random.pick([-1, 1.5, "1800000000", null, 2 ** 60, {}])
          : random.pick([null, [], "x", {}, { object: null }]),
      };
    const body = JSON.stringify(broken);
    return refused(`broken envelope: ${field}`, body, await signedHeaders(body), [400]);
  }
  if (roll < 80) {
    const event = knownEvent(random);
    let object = event.data.object;
    const mutations = random.between(1, 4);
    for (let i = 0; i < mutations; i++) object = mutate(random, object);
    const body = JSON.stringify({ ...event, data: { object } });
    return {
      label: `${event.type} with ${mutations} hostile fields`,
      body,
      headers: await signedHeaders(body),
      expect: { recorded: event.id, outcomes: ["ok", "handler_error"] },
    };
  }
  if (roll < 88) {
    const type = random.chance(0.5) ? random.pick(UNKNOWN_TYPES) : nastyString(random);
    const id = nextId();
    const body = JSON.stringify(stripeEvent(type, { id: "obj_fuzz", junk: nastyValue(random) }, {
      id,
    }));
    const controls = [...type].some((c) => c < " " || c === "\u007f");
    if (type === "" || type.length > 255 || controls) {
      return refused(`type ${JSON.stringify(type.slice(0, 20))}`, body, await signedHeaders(body), [
        400,
      ]);
    }
    return {
      label: `unknown type ${JSON.stringify(type.slice(0, 40))}`,
      body,
      headers: await signedHeaders(body),
      expect: { recorded: id, outcomes: ["ignored"] },
    };
  }
  if (roll < 93 && recorded.length) {
    const earlier = random.pick(recorded);
    return {
      label: `again: ${earlier.label}`,
      body: earlier.body,
      headers: await signedHeaders(earlier.body),
      expect: { duplicate: true },
    };
  }
  if (roll < 95) {
    const event = knownEvent(random);
    const body = JSON.stringify(event);
    const real = (await signedHeaders(body))["stripe-signature"];
    const headers: Record<string, string> = {
      "stripe-signature": `${real},v1=${"0".repeat(64)}`,
    };
    const contentType = random.pick([null, "text/plain", "application/x-www-form-urlencoded"]);
    if (contentType) headers["content-type"] = contentType;
    return {
      label: `valid among other signatures, content-type ${contentType}`,
      body,
      headers,
      expect: { recorded: event.id, outcomes: ["ok"] },
    };
  }
  if (roll < 97) {
    const padding = "x".repeat(WEBHOOK_MAX_BYTES + random.int(100_000));
    const body = JSON.stringify(stripeEvent("customer.updated", { id: "cus_big", padding }));
    const headers = random.chance(0.5)
      ? await signedHeaders(body)
      : { "stripe-signature": garbledSignature(random, body) };
    return refused(`body of ${body.length} bytes`, body, headers, [413]);
  }
  const id = nextId();
  const big = JSON.stringify(
    stripeEvent("customer.updated", { id: "cus_big", note: randomText(random, 20_000) }, { id }),
  );
  return {
    label: `large unicode body of ${big.length} characters`,
    body: big,
    headers: await signedHeaders(big),
    expect: { recorded: id, outcomes: ["ignored"] },
  };
}

Deno.test("webhook fuzz: never a 5xx, and audit rows only for validly signed events", async () => {
  const random = seededRandom("webhook fuzz");
  const app = await createTestApp({ env: { STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET } });
  try {
    const recorded: Case[] = [];
    const wrong: string[] = [];
    for (let i = 0; i < CASES; i++) {
      const fuzz = await makeCase(random, recorded);
      const response = await app.fetch("/api/stripe/webhook", {
        method: "POST",
        headers: fuzz.headers,
        body: fuzz.body,
      });
      const text = await response.text();
      let outcome: string | undefined;
      try {
        outcome = JSON.parse(text).status;
      } catch {
        wrong.push(`#${i} ${fuzz.label}: not JSON: ${text.slice(0, 100)}`);
      }
      const expect = fuzz.expect;
      const ok = "refused" in expect
        ? expect.refused.includes(response.status)
        : "duplicate" in expect
        ? response.status === 200 && outcome === "duplicate"
        : response.status === 200 && expect.outcomes.includes(outcome!);
      if (!ok) {
        wrong.push(
          `#${i} ${fuzz.label}: expected ${JSON.stringify(expect)}, got ${response.status} ${
            text.slice(0, 200)
          }`,
        );
      }
      if ("recorded" in expect && ok) recorded.push(fuzz);
    }
    assert.deepEqual(wrong, [], `seed ${random.seed}`);
    assert.equal(app.logs.records("http.server_error").length, 0);

    const audit = await app.db.sql<{ eventId: string }[]>`select event_id from stripe_events`;
    assert.deepEqual(
      new Set(audit.map((row) => row.eventId)),
      new Set(recorded.map((c) => "recorded" in c.expect && c.expect.recorded)),
      "an audit row for exactly the validly signed, well-formed events",
    );
    const [counts] = await app.db.sql`
      select (select count(*)::int from users) as users,
             (select count(*)::int from subscriptions) as subscriptions,
             (select count(*)::int from referrals) as referrals,
             (select count(*)::int from credit_grants) as grants,
             (select count(*)::int from consents) as consents`;
    assert.deepEqual(counts, { users: 0, subscriptions: 0, referrals: 0, grants: 0, consents: 0 });
  } finally {
    await app.close();
  }
});
