/**
 * The shape the code keeps, checked from the source: imports run routes → domain → database, the
 * domain speaks no HTTP, and one module owns the person's billing columns.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);

/** Every TypeScript file under `folder` (relative to the project root). */
async function sourceFiles(folder: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (relative: string) => {
    for await (const entry of Deno.readDir(new URL(relative, ROOT))) {
      const path = `${relative}${entry.name}`;
      if (entry.isDirectory) await walk(`${path}/`);
      else if (/\.tsx?$/.test(entry.name)) found.push(path);
    }
  };
  await walk(folder.endsWith("/") ? folder : `${folder}/`);
  return found.sort();
}

/** What a file imports: project paths (resolved from the root) and package names. */
async function importsOf(file: string): Promise<string[]> {
  const text = await Deno.readTextFile(new URL(file, ROOT));
  const specifiers = [
    ...text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+"([^"]+)"/gm),
    ...text.matchAll(/\bimport\(\s*"([^"]+)"\s*\)/g),
  ].map((match) => match[1]);
  return specifiers.map((specifier) =>
    specifier.startsWith(".")
      ? new URL(specifier, new URL(file, ROOT)).pathname.slice(ROOT.pathname.length)
      : specifier
  );
}

const DOMAIN = ["lib/account", "lib/auth", "lib/billing", "lib/referrals"];

Deno.test("the domain never imports the web runtime, the web edge or an HTTP library", async () => {
  const offences: string[] = [];
  for (const folder of DOMAIN) {
    for (const file of await sourceFiles(folder)) {
      for (const target of await importsOf(file)) {
        const web = /^(lib\/web\/|lib\/http\/|lib\/state\.ts$|routes\/|hono($|\/))/.test(target);
        if (web) offences.push(`${file} imports ${target}`);
      }
    }
  }
  assert.deepEqual(offences, []);
});

Deno.test("the check above sees imports: it finds the web edge's own imports of the runtime", async () => {
  const imports = await importsOf("lib/http/guards.ts");
  assert.ok(imports.includes("lib/web/mod.ts"), imports.join(", "));
});

Deno.test("outside the runtime, code reaches lib/web only through lib/web/mod.ts", async () => {
  const offences: string[] = [];
  const files = [
    ...await sourceFiles("lib"),
    ...await sourceFiles("routes"),
    ...await sourceFiles("islands"),
    ...await sourceFiles("components"),
  ].filter((file) => !file.startsWith("lib/web/"));
  for (const file of files) {
    for (const target of await importsOf(file)) {
      if (target.startsWith("lib/web/") && target !== "lib/web/mod.ts") {
        offences.push(`${file} imports ${target}`);
      }
    }
  }
  assert.deepEqual(offences, []);
});

/** The person's billing state; `lib/billing/entitlement.ts` alone writes these. */
const BILLING_COLUMNS = [
  "tier",
  "stripe_customer_id",
  "stripe_subscription_id",
  "stripe_subscription_status",
  "stripe_trial_end_at",
  "credit_until",
];
const OWNER = "lib/billing/entitlement.ts";

/** The `users` columns a piece of SQL writes: `update users set …` and `insert into users (…)`. */
function usersColumnsWritten(sql: string): string[] {
  const written: string[] = [];
  for (const match of sql.matchAll(/\bupdate\s+users\s+set\s+([\s\S]*?)(?:\bwhere\b|`)/gi)) {
    written.push(...[...match[1].matchAll(/(\w+)\s*=/g)].map((m) => m[1]));
  }
  for (const match of sql.matchAll(/\binsert\s+into\s+users\s*\(([^)]*)\)/gi)) {
    written.push(...match[1].split(",").map((column) => column.trim()));
  }
  return written;
}

Deno.test("only lib/billing/entitlement.ts writes the person's billing columns", async () => {
  const offences: string[] = [];
  let ownerWrites = 0;
  for (const folder of ["lib", "routes", "tasks"]) {
    for (const file of await sourceFiles(folder)) {
      const text = await Deno.readTextFile(new URL(file, ROOT));
      const billing = usersColumnsWritten(text).filter((c) => BILLING_COLUMNS.includes(c));
      if (file === OWNER) ownerWrites = billing.length;
      else if (billing.length) offences.push(`${file} writes ${billing.join(", ")}`);
    }
  }
  assert.deepEqual(offences, []);
  assert.ok(ownerWrites >= BILLING_COLUMNS.length, "the owner's own writes are seen");
});

Deno.test("the column check catches a writer: updates and inserts alike", () => {
  assert.deepEqual(
    usersColumnsWritten("await tx`update users set tier = 'paid', email = ${e} where id = 1`"),
    ["tier", "email"],
  );
  assert.deepEqual(
    usersColumnsWritten("await tx`insert into users (email, credit_until) values (1, 2)`"),
    ["email", "credit_until"],
  );
});
