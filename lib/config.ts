/**
 * Application configuration, read once from the environment and validated; the README's
 * Configuration table lists every variable.
 *
 * `parseConfig` never throws and never exits: it returns either a typed config or one readable
 * line per problem, so `main.ts` decides how to stop and tests can assert on the messages.
 * Values of secret variables are never echoed back in a message.
 */
import { z } from "zod";

export type AppEnv = "development" | "production";
export type EmailTransport = "log" | "smtp";

export interface Config {
  appEnv: AppEnv;
  port: number;
  /**
   * Public origin of the site, without a trailing slash. Unset, it is where the app listens:
   * `http://localhost:$PORT` (with `PORT=0`, the port the system picked, filled in at start-up).
   */
  siteUrl: string;
  /** Unset means: run on the embedded database (development only). */
  databaseUrl: string | null;
  /** How the app's connection pool talks to `databaseUrl`. */
  database: DatabasePoolSettings;
  stripe: {
    apiKey: string | null;
    webhookSecret: string | null;
    priceMonthly: string | null;
    priceAnnual: string | null;
    /** Another Stripe-compatible server for the SDK to talk to. */
    apiBase: string | null;
    /**
     * The Customer Portal configuration (`bpc_…`) portal sessions use, made by
     * `deno task admin portal-config`; null: the account's default configuration.
     */
    portalConfiguration: string | null;
    /**
     * Whether `APP_ENV=production` may run on a test-mode key (`sk_test_`/`rk_test_`): a staging
     * deploy. Off, production refuses one, so a live site cannot take pretend payments.
     */
    testKeysAllowed: boolean;
  };
  /** How long a past-due subscription keeps paid access after its first failed payment. */
  pastDueGraceDays: number;
  /** Referral rewards a referrer can earn in any 365 days; later conversions credit the friend only. */
  referralRewardsPerYear: number;
  adminToken: string | null;
  email: { transport: EmailTransport; smtpUrl: string | null; from: string };
  /**
   * How many reverse proxies in front of the app append to `X-Forwarded-For`. 0 (the default)
   * means the client IP is the socket's peer and proxy headers are ignored.
   */
  trustedProxies: number;
  /**
   * Sign-in links: emails sent per address from one client network, and requests per client IP,
   * within the window (see `lib/auth/sign_in.ts`).
   */
  signInLimits: { perEmail: number; perIp: number; windowSeconds: number };
  /** Checkout attempts, and billing portal sessions, each person may ask for in 15 minutes. */
  billingSessionsPerPerson: number;
  logLevel: "debug" | "info" | "warn" | "error";
  /** How long in-flight requests get to finish when the process is asked to stop. */
  shutdownGraceMs: number;
}

export interface DatabasePoolSettings {
  /**
   * `transaction`: a transaction-mode pooler (PgBouncer and the like) sits between the app and
   * PostgreSQL, so consecutive transactions may run on different server connections and nothing
   * may rely on session state. The app then sends no named prepared statements.
   */
  pooler: "none" | "transaction";
  /** Connections each instance opens at most. */
  poolSize: number;
  /** An unused connection is closed after this long. */
  idleTimeoutSeconds: number;
  /** Every connection is replaced after this long (spread at random by the driver). */
  maxLifetimeSeconds: number;
}

export type ConfigResult = { ok: true; config: Config } | { ok: false; errors: string[] };

/** Variables whose values must never appear in an error message or a log line. */
const SECRET_VARIABLES = new Set([
  "DATABASE_URL",
  "STRIPE_API_KEY",
  "STRIPE_WEBHOOK_SECRET",
  "ADMIN_TOKEN",
  "SMTP_URL",
]);

// An empty variable (`FOO=` in a .env file) means "not set", not "set to nothing".
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (v === "" ? undefined : v), schema.optional());

const httpUrl = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return (url.protocol === "http:" || url.protocol === "https:") && url.pathname === "/" &&
      !url.search && !url.hash;
  } catch {
    return false;
  }
}, "must be an http(s) origin such as https://read.markets (no path, query or fragment)");

function wholeNumber(max: number, min = 0) {
  return z.string().regex(/^\d+$/, "must be a whole number").transform(Number).pipe(
    z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`),
  );
}

const schema = z.object({
  APP_ENV: optional(z.enum(["development", "production"])),
  PORT: optional(wholeNumber(65535)),
  SITE_URL: optional(z.string().transform((v) => v.replace(/\/+$/, "")).pipe(httpUrl)),
  DATABASE_URL: optional(
    z.string().regex(
      /^postgres(ql)?:\/\/[^\s]+$/,
      "must be a postgres:// or postgresql:// connection URL",
    ),
  ),
  STRIPE_API_KEY: optional(
    z.string().regex(/^(sk|rk)_(test|live)_\w+$/, "must be a Stripe secret or restricted key"),
  ),
  STRIPE_WEBHOOK_SECRET: optional(
    z.string().regex(/^whsec_\w+$/, "must be a webhook signing secret (whsec_…)"),
  ),
  STRIPE_PRICE_MONTHLY: optional(z.string().regex(/^price_\w+$/, "must be a price id (price_…)")),
  STRIPE_PRICE_ANNUAL: optional(z.string().regex(/^price_\w+$/, "must be a price id (price_…)")),
  STRIPE_API_BASE: optional(httpUrl),
  STRIPE_PORTAL_CONFIGURATION: optional(
    z.string().regex(/^bpc_\w+$/, "must be a portal configuration id (bpc_…)"),
  ),
  STRIPE_TEST_KEYS_ALLOWED: optional(z.enum(["true", "false"])),
  PAST_DUE_GRACE_DAYS: optional(wholeNumber(60)),
  REFERRAL_REWARDS_PER_YEAR: optional(wholeNumber(1000)),
  ADMIN_TOKEN: optional(z.string().min(32, "must be at least 32 characters")),
  EMAIL_TRANSPORT: optional(z.enum(["log", "smtp"])),
  SMTP_URL: optional(
    z.string().regex(/^smtps?:\/\/[^\s]+$/, "must be an smtp:// or smtps:// URL"),
  ),
  EMAIL_FROM: optional(z.string().min(3)),
  TRUSTED_PROXIES: optional(wholeNumber(10)),
  SIGNIN_LIMIT_PER_EMAIL: optional(wholeNumber(10_000, 1)),
  SIGNIN_LIMIT_PER_IP: optional(wholeNumber(1_000_000, 1)),
  SIGNIN_LIMIT_WINDOW_MINUTES: optional(wholeNumber(24 * 60, 1)),
  BILLING_SESSIONS_PER_PERSON: optional(wholeNumber(1_000_000, 1)),
  DATABASE_POOLER: optional(z.enum(["none", "transaction"])),
  DATABASE_POOL_SIZE: optional(wholeNumber(1000, 1)),
  DATABASE_IDLE_TIMEOUT_SECONDS: optional(wholeNumber(24 * 3600, 1)),
  DATABASE_MAX_LIFETIME_SECONDS: optional(wholeNumber(7 * 24 * 3600, 60)),
  LOG_LEVEL: optional(z.enum(["debug", "info", "warn", "error"])),
  SHUTDOWN_GRACE_SECONDS: optional(wholeNumber(600, 1)),
});

export function parseConfig(env: Record<string, string | undefined>): ConfigResult {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const errors = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0]);
      const value = env[name];
      const shown = value === undefined || SECRET_VARIABLES.has(name) ? "" : ` (got "${value}")`;
      return `${name} ${readableMessage(issue)}${shown}`;
    });
    return { ok: false, errors };
  }
  const v = parsed.data;
  const port = v.PORT ?? 8000;
  const config: Config = {
    appEnv: v.APP_ENV ?? "development",
    port,
    siteUrl: v.SITE_URL ?? localOrigin(port),
    databaseUrl: v.DATABASE_URL ?? null,
    database: {
      pooler: v.DATABASE_POOLER ?? "none",
      poolSize: v.DATABASE_POOL_SIZE ?? 5,
      idleTimeoutSeconds: v.DATABASE_IDLE_TIMEOUT_SECONDS ?? 20,
      maxLifetimeSeconds: v.DATABASE_MAX_LIFETIME_SECONDS ?? 30 * 60,
    },
    stripe: {
      apiKey: v.STRIPE_API_KEY ?? null,
      webhookSecret: v.STRIPE_WEBHOOK_SECRET ?? null,
      priceMonthly: v.STRIPE_PRICE_MONTHLY ?? null,
      priceAnnual: v.STRIPE_PRICE_ANNUAL ?? null,
      apiBase: v.STRIPE_API_BASE ?? null,
      portalConfiguration: v.STRIPE_PORTAL_CONFIGURATION ?? null,
      testKeysAllowed: v.STRIPE_TEST_KEYS_ALLOWED === "true",
    },
    pastDueGraceDays: v.PAST_DUE_GRACE_DAYS ?? 14,
    referralRewardsPerYear: v.REFERRAL_REWARDS_PER_YEAR ?? 12,
    adminToken: v.ADMIN_TOKEN ?? null,
    email: {
      transport: v.EMAIL_TRANSPORT ?? "log",
      smtpUrl: v.SMTP_URL ?? null,
      from: v.EMAIL_FROM ?? "read.markets <no-reply@read.markets>",
    },
    trustedProxies: v.TRUSTED_PROXIES ?? 0,
    signInLimits: {
      perEmail: v.SIGNIN_LIMIT_PER_EMAIL ?? 5,
      perIp: v.SIGNIN_LIMIT_PER_IP ?? 50,
      windowSeconds: (v.SIGNIN_LIMIT_WINDOW_MINUTES ?? 15) * 60,
    },
    billingSessionsPerPerson: v.BILLING_SESSIONS_PER_PERSON ?? 10,
    logLevel: v.LOG_LEVEL ?? "info",
    shutdownGraceMs: (v.SHUTDOWN_GRACE_SECONDS ?? 10) * 1000,
  };
  const errors = crossFieldErrors(config);
  return errors.length ? { ok: false, errors } : { ok: true, config };
}

/** Rules that involve more than one variable, chiefly what production refuses to run without. */
function crossFieldErrors(config: Config): string[] {
  const errors: string[] = [];
  if (config.email.transport === "smtp" && !config.email.smtpUrl) {
    errors.push("SMTP_URL is required when EMAIL_TRANSPORT=smtp");
  }
  if (config.stripe.apiBase && !config.stripe.apiKey) {
    errors.push(
      "STRIPE_API_BASE needs STRIPE_API_KEY (a key for that server); unset STRIPE_API_BASE to " +
        "use the built-in Stripe simulator",
    );
  }
  if (config.appEnv !== "production") return errors;

  const required: [string, unknown][] = [
    ["DATABASE_URL", config.databaseUrl],
    ["STRIPE_API_KEY", config.stripe.apiKey],
    ["STRIPE_WEBHOOK_SECRET", config.stripe.webhookSecret],
    ["STRIPE_PRICE_MONTHLY", config.stripe.priceMonthly],
    ["STRIPE_PRICE_ANNUAL", config.stripe.priceAnnual],
    ["ADMIN_TOKEN", config.adminToken],
  ];
  for (const [name, value] of required) {
    if (!value) errors.push(`${name} is required when APP_ENV=production`);
  }
  const testKeyPrefix = config.stripe.apiKey?.match(/^(sk|rk)_test_/)?.[0];
  if (testKeyPrefix && !config.stripe.testKeysAllowed) {
    errors.push(
      `STRIPE_API_KEY is a test-mode key (${testKeyPrefix}…); APP_ENV=production needs a live key ` +
        "(sk_live_ or rk_live_), or set STRIPE_TEST_KEYS_ALLOWED=true for a staging deploy",
    );
  }
  if (config.email.transport !== "smtp") {
    // The log transport writes sign-in links (credentials) to the logs.
    errors.push("EMAIL_TRANSPORT must be smtp when APP_ENV=production");
  }
  if (!config.siteUrl.startsWith("https://")) {
    errors.push(`SITE_URL must use https when APP_ENV=production (got "${config.siteUrl}")`);
  }
  return errors;
}

/** The site's origin when SITE_URL is unset: where the app listens. */
export function localOrigin(port: number): string {
  return `http://localhost:${port}`;
}

function readableMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === "invalid_value" && "values" in issue) {
    return `must be one of ${issue.values.map((v) => `"${String(v)}"`).join(", ")}`;
  }
  return issue.message;
}

/** Read the process environment, or print every problem and exit non-zero. */
export function loadConfigOrExit(env = Deno.env.toObject()): Config {
  const result = parseConfig(env);
  if (result.ok) return result.config;
  for (const line of result.errors) console.error(`config error: ${line}`);
  Deno.exit(1);
}
