import assert from "node:assert/strict";
import { runDeno } from "./helpers/bounded.ts";
import { parseConfig } from "../lib/config.ts";

const PRODUCTION = {
  APP_ENV: "production",
  SITE_URL: "https://read.markets",
  DATABASE_URL: "postgres://app:pw@db.internal:5432/app",
  STRIPE_API_KEY: "sk_live_abc123",
  STRIPE_WEBHOOK_SECRET: "whsec_abc123",
  STRIPE_PRICE_MONTHLY: "price_monthly1",
  STRIPE_PRICE_ANNUAL: "price_annual1",
  ADMIN_TOKEN: "a".repeat(40),
  EMAIL_TRANSPORT: "smtp",
  SMTP_URL: "smtps://user:pass@smtp.example.com:465",
};

function errorsOf(env: Record<string, string>): string[] {
  const result = parseConfig(env);
  assert.equal(result.ok, false, "expected the config to be rejected");
  return result.ok ? [] : result.errors;
}

Deno.test("an empty environment is a working development config", () => {
  const result = parseConfig({});
  assert.ok(result.ok);
  assert.equal(result.config.appEnv, "development");
  assert.equal(result.config.port, 8000);
  assert.equal(result.config.siteUrl, "http://localhost:8000");
  assert.equal(result.config.databaseUrl, null);
  assert.equal(result.config.stripe.apiKey, null);
  assert.equal(result.config.email.transport, "log");
});

Deno.test("SITE_URL defaults to the port the app listens on", () => {
  const result = parseConfig({ PORT: "8123" });
  assert.ok(result.ok);
  assert.equal(result.config.siteUrl, "http://localhost:8123");
});

Deno.test("empty variables count as unset, and SITE_URL loses its trailing slash", () => {
  const result = parseConfig({ DATABASE_URL: "", PORT: "", SITE_URL: "https://read.markets/" });
  assert.ok(result.ok);
  assert.equal(result.config.databaseUrl, null);
  assert.equal(result.config.port, 8000);
  assert.equal(result.config.siteUrl, "https://read.markets");
});

Deno.test("every bad variable is reported on its own line", () => {
  const errors = errorsOf({
    PORT: "eighty",
    SITE_URL: "read.markets",
    APP_ENV: "staging",
    EMAIL_TRANSPORT: "pigeon",
    STRIPE_PRICE_MONTHLY: "monthly",
  });
  assert.equal(errors.length, 5, errors.join("\n"));
  assert.ok(errors.some((e) => e.startsWith("PORT must be a whole number")));
  assert.ok(errors.some((e) => e.startsWith("SITE_URL must be an http(s) origin")));
  assert.ok(
    errors.some((e) => e === 'APP_ENV must be one of "development", "production" (got "staging")'),
  );
  assert.ok(errors.some((e) => e.startsWith('EMAIL_TRANSPORT must be one of "log", "smtp"')));
  assert.ok(errors.some((e) => e.startsWith("STRIPE_PRICE_MONTHLY must be a price id")));
});

Deno.test("the database pool: defaults for many small instances, a pooler, and bad values", () => {
  const defaults = parseConfig({});
  assert.ok(defaults.ok);
  assert.deepEqual(defaults.config.database, {
    pooler: "none",
    poolSize: 5,
    idleTimeoutSeconds: 20,
    maxLifetimeSeconds: 1800,
  });
  const pooled = parseConfig({
    DATABASE_URL: "postgres://app@pooler.internal:6543/app?sslmode=require",
    DATABASE_POOLER: "transaction",
    DATABASE_POOL_SIZE: "3",
    DATABASE_IDLE_TIMEOUT_SECONDS: "5",
    DATABASE_MAX_LIFETIME_SECONDS: "600",
  });
  assert.ok(pooled.ok);
  assert.deepEqual(pooled.config.database, {
    pooler: "transaction",
    poolSize: 3,
    idleTimeoutSeconds: 5,
    maxLifetimeSeconds: 600,
  });
  assert.deepEqual(
    errorsOf({
      DATABASE_POOLER: "session",
      DATABASE_POOL_SIZE: "0",
      DATABASE_IDLE_TIMEOUT_SECONDS: "soon",
      DATABASE_MAX_LIFETIME_SECONDS: "30",
    }),
    [
      'DATABASE_POOLER must be one of "none", "transaction" (got "session")',
      'DATABASE_POOL_SIZE must be at least 1 (got "0")',
      'DATABASE_IDLE_TIMEOUT_SECONDS must be a whole number (got "soon")',
      'DATABASE_MAX_LIFETIME_SECONDS must be at least 60 (got "30")',
    ],
  );
});

Deno.test("secret values never appear in error messages", () => {
  const errors = errorsOf({
    STRIPE_API_KEY: "pk_live_leakme",
    ADMIN_TOKEN: "short-leakme",
    DATABASE_URL: "mysql://root:leakme@db",
  });
  assert.equal(errors.length, 3);
  for (const line of errors) assert.ok(!line.includes("leakme"), line);
});

Deno.test("smtp transport needs SMTP_URL", () => {
  assert.deepEqual(errorsOf({ EMAIL_TRANSPORT: "smtp" }), [
    "SMTP_URL is required when EMAIL_TRANSPORT=smtp",
  ]);
});

Deno.test("STRIPE_API_BASE without a key is refused rather than silently using the simulator", () => {
  assert.deepEqual(errorsOf({ STRIPE_API_BASE: "http://localhost:12111" }), [
    "STRIPE_API_BASE needs STRIPE_API_KEY (a key for that server); unset STRIPE_API_BASE to use " +
    "the built-in Stripe simulator",
  ]);
  const withKey = parseConfig({
    STRIPE_API_BASE: "http://localhost:12111",
    STRIPE_API_KEY: "sk_test_123",
  });
  assert.ok(withKey.ok);
  assert.equal(withKey.config.stripe.apiBase, "http://localhost:12111");
});

Deno.test("production starts only with every production setting, naming each one missing", () => {
  assert.ok(parseConfig(PRODUCTION).ok);
  const errors = errorsOf({ APP_ENV: "production" });
  for (
    const name of [
      "DATABASE_URL",
      "STRIPE_API_KEY",
      "STRIPE_WEBHOOK_SECRET",
      "STRIPE_PRICE_MONTHLY",
      "STRIPE_PRICE_ANNUAL",
      "ADMIN_TOKEN",
    ]
  ) {
    assert.ok(errors.includes(`${name} is required when APP_ENV=production`), name);
  }
  assert.ok(errors.some((e) => e.startsWith("SITE_URL must use https")));
  const withoutKey = errorsOf({ ...PRODUCTION, STRIPE_API_KEY: "" });
  assert.deepEqual(withoutKey, ["STRIPE_API_KEY is required when APP_ENV=production"]);
});

Deno.test("production refuses a test-mode Stripe key unless the deploy says it is staging", () => {
  const testKey = "sk_test_leakme123";
  assert.deepEqual(errorsOf({ ...PRODUCTION, STRIPE_API_KEY: testKey }), [
    "STRIPE_API_KEY is a test-mode key (sk_test_…); APP_ENV=production needs a live key " +
    "(sk_live_ or rk_live_), or set STRIPE_TEST_KEYS_ALLOWED=true for a staging deploy",
  ]);
  const restricted = errorsOf({ ...PRODUCTION, STRIPE_API_KEY: "rk_test_leakme123" });
  assert.equal(restricted.length, 1);
  assert.match(restricted[0], /^STRIPE_API_KEY is a test-mode key \(rk_test_…\)/);
  for (const line of restricted) assert.ok(!line.includes("leakme"), line);
  assert.deepEqual(
    errorsOf({ ...PRODUCTION, STRIPE_API_KEY: testKey, STRIPE_TEST_KEYS_ALLOWED: "false" }),
    errorsOf({ ...PRODUCTION, STRIPE_API_KEY: testKey }),
  );

  const staging = parseConfig({
    ...PRODUCTION,
    STRIPE_API_KEY: testKey,
    STRIPE_TEST_KEYS_ALLOWED: "true",
  });
  assert.ok(staging.ok);
  assert.equal(staging.config.stripe.testKeysAllowed, true);
  for (const live of ["sk_live_abc123", "rk_live_abc123"]) {
    const result = parseConfig({ ...PRODUCTION, STRIPE_API_KEY: live });
    assert.ok(result.ok, live);
    assert.equal(result.config.stripe.testKeysAllowed, false);
  }
  assert.ok(parseConfig({ STRIPE_API_KEY: testKey }).ok, "development takes test keys as ever");
  assert.deepEqual(errorsOf({ STRIPE_TEST_KEYS_ALLOWED: "yes" }), [
    'STRIPE_TEST_KEYS_ALLOWED must be one of "true", "false" (got "yes")',
  ]);
});

Deno.test("a bad config stops the process with exit code 1 and one line per problem", async () => {
  const output = await runDeno(["run", "-A", "main.ts"], {
    env: { PORT: "x", APP_ENV: "production" },
  });
  assert.equal(output.code, 1);
  const lines = output.stderr.trim().split("\n");
  assert.ok(
    lines.includes('config error: PORT must be a whole number (got "x")'),
    lines.join("\n"),
  );
  assert.ok(lines.every((line) => line.startsWith("config error: ")), lines.join("\n"));
});

Deno.test("production with a test-mode Stripe key stops the process, naming the setting", async () => {
  const output = await runDeno(["run", "-A", "main.ts"], {
    env: { ...PRODUCTION, PORT: "0", STRIPE_API_KEY: "sk_test_leakme123" },
  });
  assert.equal(output.code, 1);
  assert.deepEqual(output.stderr.trim().split("\n"), [
    "config error: STRIPE_API_KEY is a test-mode key (sk_test_…); APP_ENV=production needs a " +
    "live key (sk_live_ or rk_live_), or set STRIPE_TEST_KEYS_ALLOWED=true for a staging deploy",
  ]);
  assert.ok(!output.stdout.includes("leakme") && !output.stderr.includes("leakme"));
});
