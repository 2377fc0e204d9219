import assert from "node:assert/strict";
import { runDeno } from "./helpers/bounded.ts";
import { createTestDatabase } from "./helpers/db.ts";
import { testServices } from "./helpers/app.ts";
import { createUser, reload } from "./helpers/users.ts";
import { assertLedgerExplainsCredit } from "./helpers/ledger.ts";
import { runAdminCommand } from "../lib/admin/commands.ts";

const NOW = new Date("2026-07-01T00:00:00Z");

Deno.test("admin grant-credit extends from max(now, credit_until) and writes the ledger", async () => {
  const db = await createTestDatabase();
  const services = await testServices(db, { now: () => NOW });
  try {
    const user = await createUser(db.sql, { email: "gift@example.com" });
    const first = await runAdminCommand(services, [
      "grant-credit",
      "--email",
      "GIFT@example.com",
      "--days",
      "10",
      "--reason",
      "apology",
    ]);
    assert.deepEqual(first, {
      code: 0,
      lines: ["gift@example.com: +10 days, paid access until 2026-07-11T00:00:00.000Z"],
    });
    await runAdminCommand(services, ["grant-credit", "--email", "gift@example.com", "--days", "5"]);
    assert.deepEqual((await reload(db.sql, user)).creditUntil, new Date("2026-07-16T00:00:00Z"));
    const grants = await db.sql`select days, reason, note from credit_grants order by id`;
    assert.deepEqual(grants.map((g) => [g.days, g.reason, g.note]), [
      [10, "admin_grant", "apology"],
      [5, "admin_grant", null],
    ]);
    await assertLedgerExplainsCredit(db.sql);

    const shown = await runAdminCommand(services, ["user", "gift@example.com"]);
    assert.equal(shown.code, 0);
    assert.ok(shown.lines.includes("paid access now       yes"));
    assert.ok(
      shown.lines.some((l) =>
        l.includes("credit until          2026-07-16T00:00:00.000Z (15 days left)")
      ),
    );
  } finally {
    await db.close();
  }
});

Deno.test("admin commands refuse bad input clearly and write nothing", async () => {
  const db = await createTestDatabase();
  const services = await testServices(db, { now: () => NOW });
  try {
    await createUser(db.sql, { email: "someone@example.com" });
    const cases: [string[], RegExp][] = [
      [
        ["grant-credit", "--email", "not-an-email", "--days", "5"],
        /"not-an-email" is not a valid email address/,
      ],
      [
        ["grant-credit", "--email", "nobody@example.com", "--days", "5"],
        /no account for nobody@example.com/,
      ],
      [
        ["grant-credit", "--email", "someone@example.com", "--days", "0"],
        /--days must be a whole number from 1 to 3650/,
      ],
      [
        ["grant-credit", "--email", "someone@example.com", "--days", "-3"],
        /argument is ambiguous/,
      ],
      [
        ["grant-credit", "--email", "someone@example.com", "--days=-3"],
        /--days must be a whole number/,
      ],
      [
        ["grant-credit", "--email", "someone@example.com", "--days", "2.5"],
        /--days must be a whole number/,
      ],
      [["grant-credit", "--email", "someone@example.com"], /--days is required/],
      [["grant-credit", "--days", "5"], /--email is required/],
      [["grant-credit", "--bogus"], /Unknown option '--bogus'/],
      [["events", "--limit", "many"], /--limit must be a whole number/],
      [["user"], /user takes exactly one email address/],
      [["frobnicate"], /unknown command "frobnicate"/],
      [[], /no command given/],
    ];
    for (const [argv, message] of cases) {
      const result = await runAdminCommand(services, argv);
      assert.equal(result.code, 1, argv.join(" "));
      assert.match(result.lines[0], message, argv.join(" "));
    }
    const [{ count }] = await db.sql`select count(*)::int from credit_grants`;
    assert.equal(count, 0);
    const [{ credit }] = await db.sql`select count(credit_until)::int as credit from users`;
    assert.equal(credit, 0);
  } finally {
    await db.close();
  }
});

Deno.test("deno task admin runs against DATABASE_URL", async () => {
  const db = await createTestDatabase();
  try {
    await createUser(db.sql, { email: "cli@example.com" });
    const run = (...args: string[]) =>
      runDeno(["run", "-A", "tasks/admin.ts", ...args], { env: { DATABASE_URL: db.url } });
    const granted = await run("grant-credit", "--email", "cli@example.com", "--days", "3");
    assert.equal(granted.code, 0, granted.stderr);
    assert.match(granted.stdout, /cli@example.com: \+3 days/);
    const refused = await run("grant-credit", "--email", "cli@example.com", "--days", "x");
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /--days must be a whole number/);
  } finally {
    await db.close();
  }
});
