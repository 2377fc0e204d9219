/**
 * Hostile bodies for the two JSON APIs a browser posts to: checkout and sign-in. Whatever arrives,
 * the answer is the one the rules give (2xx for a valid request, 4xx otherwise), never a 5xx, and
 * an invalid request writes nothing.
 */
import assert from "node:assert/strict";
import { createTestApp } from "../helpers/app.ts";
import { signIn } from "../helpers/auth.ts";
import { type Random, seededRandom } from "../helpers/random.ts";
import { headerText, mutate, nastyString, nastyValue, randomText } from "../helpers/fuzz.ts";
import { MAX_BODY_BYTES } from "../../lib/app.ts";
import { emailSchema } from "../../lib/auth/users.ts";

const CASES = 1500;

interface Body {
  contentType: string | null;
  text: string;
}

/** A JSON body built from `valid`, usually broken in one of many ways. */
function hostileBody(random: Random, valid: Record<string, unknown>): Body {
  const json = (value: unknown) => ({
    contentType: "application/json",
    text: JSON.stringify(value),
  });
  switch (random.int(12)) {
    case 0:
    case 1:
      return json(valid);
    case 2:
    case 3:
    case 4:
      return json(mutate(random, valid));
    case 5:
      return json(mutate(random, mutate(random, valid)));
    case 6:
      return json(nastyValue(random, 3));
    case 7: {
      const text = JSON.stringify(valid);
      return { contentType: "application/json", text: text.slice(0, random.int(text.length)) };
    }
    case 8:
      return { contentType: "application/json", text: randomText(random, random.between(0, 100)) };
    case 9:
      return {
        contentType: random.pick([
          null,
          "text/plain",
          "application/x-www-form-urlencoded",
          "multipart/form-data; boundary=x",
          "application/jsonx",
          "APPLICATION/JSON; charset=utf-8",
          "application/json ; charset=latin1",
        ]),
        text: JSON.stringify(valid),
      };
    case 10:
      return json({ ...valid, [nastyString(random).slice(0, 20) || "extra"]: nastyValue(random) });
    default:
      return json({ ...valid, padding: "x".repeat(MAX_BODY_BYTES + random.int(10_000)) });
  }
}

function parsesAsObject(body: Body): Record<string, unknown> | null {
  if (!/^application\/json\s*(;|$)/i.test(body.contentType ?? "")) return null;
  if (new TextEncoder().encode(body.text).length > MAX_BODY_BYTES) return null;
  try {
    const value = JSON.parse(body.text);
    return value && typeof value === "object" && !Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

/** What the checkout rules accept: exactly a cadence and a boolean waiver, ticked for monthly. */
function isValidCheckout(body: Body): { cadence: string } | null {
  const value = parsesAsObject(body);
  if (!value) return null;
  const keys = Object.keys(value).sort().join(",");
  if (keys !== "cadence,reg36Waiver" || typeof value.reg36Waiver !== "boolean") return null;
  if (value.cadence === "annual") return { cadence: "annual" };
  if (value.cadence === "monthly" && value.reg36Waiver === true) return { cadence: "monthly" };
  return null;
}

async function send(
  fetcher: (path: string, init: RequestInit) => Promise<Response>,
  path: string,
  body: Body,
  headers: Record<string, string>,
) {
  const response = await fetcher(path, {
    method: "POST",
    headers: { ...headers, ...(body.contentType ? { "content-type": body.contentType } : {}) },
    body: body.text,
  });
  return { status: response.status, text: await response.text() };
}

Deno.test("checkout fuzz: valid bodies start Checkout, every other body is a 4xx that writes nothing", async () => {
  const random = seededRandom("checkout fuzz");
  const app = await createTestApp({
    payments: "simulator",
    env: { BILLING_SESSIONS_PER_PERSON: "1000000" },
  });
  try {
    const { cookie } = await signIn(app, "fuzzed@example.com");
    const wrong: string[] = [];
    // Going back to the same plan reuses its open session, so it is sessions that get consents.
    const monthlySessions = new Set<string>();
    for (let i = 0; i < CASES; i++) {
      const valid = {
        cadence: random.pick(["monthly", "annual"]),
        reg36Waiver: random.chance(0.8),
      };
      const body = hostileBody(random, valid);
      const forged = random.chance(0.1);
      const expected = forged ? null : isValidCheckout(body);
      const { status, text } = await send(app.fetch, "/api/stripe/checkout", body, {
        cookie: forged ? `rm_session=${headerText(random, random.between(0, 60))}` : cookie,
        origin: "http://localhost:8000",
      });
      const ok = expected
        ? status === 200 && typeof JSON.parse(text).url === "string"
        : status >= 400 && status < 500 && typeof JSON.parse(text).message === "string" &&
          (!forged || status === 401 || status === 413);
      if (!ok) {
        wrong.push(`#${i} ${body.contentType} ${body.text.slice(0, 120)} → ${status} ${text}`);
      }
      if (ok && expected?.cadence === "monthly") monthlySessions.add(JSON.parse(text).url);
    }
    assert.deepEqual(wrong, [], `seed ${random.seed}`);
    assert.equal(app.logs.records("http.server_error").length, 0);
    const [counts] = await app.db.sql`
      select (select count(*)::int from consents) as consents,
             (select count(*)::int from users) as users`;
    assert.deepEqual(
      counts,
      { consents: monthlySessions.size, users: 1 },
      "a consent per monthly session",
    );
  } finally {
    await app.close();
  }
});

Deno.test("sign-in fuzz: valid requests send a link, every other body is a 4xx that writes nothing", async () => {
  const random = seededRandom("sign-in fuzz");
  const app = await createTestApp({ env: { SIGNIN_LIMIT_PER_IP: "1000000" } });
  try {
    const wrong: string[] = [];
    let sent = 0;
    for (let i = 0; i < CASES; i++) {
      const email = random.chance(0.6)
        ? `reader${i}@example.com`
        : random.pick([nastyString(random), `${nastyString(random)}@example.com`, "a@b"]);
      const valid: Record<string, unknown> = random.chance(0.5)
        ? { email }
        : { email, next: random.pick(["/settings", "//evil.example", nastyString(random)]) };
      const body = hostileBody(random, valid);
      const value = parsesAsObject(body);
      const shapeOk = value !== null && typeof value.email === "string" &&
        (value.next === undefined || typeof value.next === "string");
      const expected = shapeOk && emailSchema.safeParse(value.email).success;
      const { status, text } = await send(app.fetch, "/api/auth/login", body, {});
      const ok = expected
        ? status === 202 || status === 429
        : status >= 400 && status < 500 && status !== 429;
      if (!ok) {
        wrong.push(`#${i} ${body.contentType} ${body.text.slice(0, 120)} → ${status} ${text}`);
      }
      if (status === 202) sent += 1;
    }
    assert.deepEqual(wrong, [], `seed ${random.seed}`);
    assert.equal(app.logs.records("http.server_error").length, 0);
    // An address asked for too often from one network gets the same answer, but no mail.
    const held = app.logs.records("auth.sign_in_mail_held").length;
    const mailed = sent - held;
    assert.equal(app.logs.records("auth.magic_link").length, mailed);
    const [counts] = await app.db.sql`
      select (select count(*)::int from login_tokens) as tokens,
             (select count(*)::int from rate_limit_hits) as hits,
             (select count(*)::int from users) as users`;
    // Each link sent counts once against its address and once against the client's IP; a held
    // one, only against the IP.
    assert.deepEqual(counts, { tokens: mailed, hits: 2 * mailed + held, users: 0 });
  } finally {
    await app.close();
  }
});
