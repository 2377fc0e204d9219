/**
 * No open redirect: whatever a link or form carries, every Location this site answers with
 * stays on this site. A Location is judged as a browser reads it — with the WHATWG URL parser,
 * which drops tabs and newlines and reads backslashes as slashes — against the site's origin.
 */
import assert from "node:assert/strict";
import { createTestApp } from "../helpers/app.ts";
import { signIn } from "../helpers/auth.ts";
import { createUser } from "../helpers/users.ts";

const SITE = "http://localhost:8000";

/** Targets that have led browsers off-site from naive redirect code. */
const HOSTILE = [
  "https://evil.example/",
  "//evil.example/x",
  "///evil.example/x",
  "/\\evil.example",
  "\\\\evil.example",
  "\\/evil.example",
  "/\t/evil.example",
  "/\n/evil.example",
  "\t//evil.example",
  " //evil.example",
  "/%09/evil.example",
  "/%2F%2Fevil.example",
  "javascript:alert(1)",
  "http:evil.example",
  "/ok\r\nLocation: https://evil.example",
];

function assertOnSite(response: Response, label: string) {
  const location = response.headers.get("location");
  assert.ok(location !== null, `${label}: no Location (status ${response.status})`);
  const target = new URL(location, `${SITE}/somewhere/deep`);
  assert.equal(target.origin, SITE, `${label} → ${JSON.stringify(location)}`);
}

Deno.test("after sign-in, `next` never leads off the site (API, page and verify link)", async () => {
  const app = await createTestApp();
  try {
    const { cookie } = await signIn(app, "signed-in@example.com");
    for (const next of HOSTILE) {
      const page = await app.fetch(`/login?next=${encodeURIComponent(next)}`, {
        headers: { cookie },
      });
      assert.ok([302, 303].includes(page.status), `${next}: ${page.status}`);
      assertOnSite(page, `GET /login?next=${next}`);
      await page.body?.cancel();
    }
    for (const [i, next] of HOSTILE.entries()) {
      const { location } = await signIn(app, `arriving${i}@example.com`, { next });
      const target = new URL(location, `${SITE}/somewhere/deep`);
      assert.equal(target.origin, SITE, `verify after next=${JSON.stringify(next)} → ${location}`);
    }
  } finally {
    await app.close();
  }
});

Deno.test("referral links and ?ref= on any path never lead off the site", async () => {
  const app = await createTestApp();
  try {
    const base = await app.listen();
    const friend = await createUser(app.db.sql);
    const code = friend.referralCode;
    const paths = [
      `/r/${code}`,
      `/r/${encodeURIComponent("//evil.example")}`,
      `/?ref=${code}`,
      `/pricing?ref=${code}&plan=monthly`,
      // A path that is itself protocol-relative, sent over the wire as is.
      `//evil.example/?ref=${code}`,
      `//evil.example/?ref=unknown-code`,
      `/\\evil.example/?ref=${code}`,
      `/%2F%2Fevil.example/?ref=${code}`,
    ];
    for (const path of paths) {
      const response = await fetch(`${base}${path}`, { redirect: "manual" });
      assert.equal(response.status, 303, path);
      assertOnSite(response, path);
      await response.body?.cancel();
    }
  } finally {
    await app.close();
  }
});
