/**
 * Operator commands (`deno task admin …`). Each returns the lines to print and an exit code, so
 * tests run them against a real database without spawning processes.
 */
import { parseArgs } from "node:util";
import type { Services } from "../services.ts";
import { withTransaction } from "../db/client.ts";
import { emailSchema, findUserByEmail } from "../auth/users.ts";
import { listRecordedEvents, ReplayRefused, replayStripeEvent } from "../billing/webhook/ledger.ts";
import { creditDaysLeft, grantCredit } from "../referrals/credits.ts";
import { hasPaidAccess } from "../billing/entitlement.ts";
import { subscriptionsOf } from "../billing/subscriptions.ts";
import { ensurePortalConfiguration } from "../billing/portal.ts";
import { listJobs, retryFailedJob } from "../jobs/queue.ts";
import { formatAmount } from "../format.ts";
import { referralStats } from "../referrals/stats.ts";
import { approveReferral, referralsForOperators, voidReferral } from "../referrals/rewards.ts";
import { DomainError } from "../domain_error.ts";

export interface CommandResult {
  code: number;
  lines: string[];
}

type AdminServices = Pick<Services, "config" | "db" | "log" | "now" | "stripe" | "jobs">;

export const USAGE = [
  "usage: deno task admin <command>",
  "  events [--failed] [--type <type>] [--limit <n>]   recent Stripe events (newest first)",
  "  replay <event_id>                                 re-run a failed event's handler",
  "  user <email>                                      a person's billing and credit state",
  "  grant-credit --email <email> --days <n> [--reason <text>]",
  "                                                    add days of paid access",
  "  jobs [--failed] [--kind <kind>] [--limit <n>]     durable jobs (newest first)",
  "  retry-job <id>                                    run a failed job again, from its first attempt",
  "  notices <email>                                   the notices a person was sent",
  "  referrals [--held] [--limit <n>]                  referrals and their rewards (newest first)",
  "  approve-referral <id>                             credit a held referral, once",
  "  void-referral <id> --reason <text>                take a referral's reward back for good",
  "  portal-config                                     create or update the Customer Portal's",
  "                                                    configuration (no plan switching); prints its id",
];

export async function runAdminCommand(
  services: AdminServices,
  argv: string[],
): Promise<CommandResult> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "events":
        return await events(services, rest);
      case "replay":
        return await replay(services, rest);
      case "user":
        return await user(services, rest);
      case "grant-credit":
        return await grantCreditCommand(services, rest);
      case "jobs":
        return await jobs(services, rest);
      case "retry-job":
        return await retryJob(services, rest);
      case "referrals":
        return await referrals(services, rest);
      case "approve-referral":
        return await approveReferralCommand(services, rest);
      case "void-referral":
        return await voidReferralCommand(services, rest);
      case "portal-config":
        return await portalConfig(services, rest);
      case "notices":
        return await notices(services, rest);
      default:
        return fail(command ? `unknown command "${command}"` : "no command given", ...USAGE);
    }
  } catch (error) {
    if (error instanceof UsageError || error instanceof ReplayRefused) return fail(error.message);
    if (error instanceof DomainError) return fail(error.message);
    if (String((error as { code?: string }).code).startsWith("ERR_PARSE_ARGS")) {
      return fail((error as Error).message, ...USAGE);
    }
    throw error;
  }
}

class UsageError extends Error {}

function fail(...lines: string[]): CommandResult {
  return { code: 1, lines: lines.map((line, i) => (i === 0 ? `error: ${line}` : line)) };
}

async function events(services: AdminServices, args: string[]): Promise<CommandResult> {
  const { values } = parseArgs({
    args,
    options: { failed: { type: "boolean" }, type: { type: "string" }, limit: { type: "string" } },
  });
  const limit = values.limit === undefined ? 50 : wholeNumber(values.limit, "--limit", 1, 10_000);
  const rows = await listRecordedEvents(services.db, {
    failedOnly: values.failed ?? false,
    type: values.type ?? null,
    limit,
  });
  if (rows.length === 0) return { code: 0, lines: ["no events"] };
  return {
    code: 0,
    lines: rows.map((r) => {
      const state = r.error ? `FAILED: ${r.error}` : r.processedAt ? "processed" : "pending";
      return `${r.receivedAt.toISOString()}  ${r.eventId}  ${r.eventType}  ${state}`;
    }),
  };
}

async function replay(services: AdminServices, args: string[]): Promise<CommandResult> {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  if (positionals.length !== 1) throw new UsageError("replay takes exactly one event id");
  const outcome = await replayStripeEvent(services, positionals[0]);
  return { code: outcome === "handler_error" ? 1 : 0, lines: [`${positionals[0]}: ${outcome}`] };
}

async function user(services: AdminServices, args: string[]): Promise<CommandResult> {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  if (positionals.length !== 1) throw new UsageError("user takes exactly one email address");
  const person = await findUserByEmail(services.db, positionals[0]);
  if (!person) throw new UsageError(`no account for ${positionals[0]}`);
  const now = services.now();
  const stats = await referralStats(services.db, person.id, now);
  const grants = await services.db<
    { days: number; reason: string; grantedAt: Date; note: string | null }[]
  >`
    select days, reason, granted_at, note from credit_grants
    where user_id = ${person.id} order by granted_at desc, id desc limit 10`;
  const subscriptions = await subscriptionsOf(services.db, person.id);
  const show = (value: unknown) =>
    value instanceof Date ? value.toISOString() : String(value ?? "—");
  const subscriptionLine = (s: (typeof subscriptions)[number]) =>
    `subscription history  ${s.stripeSubscriptionId} ${s.status}` +
    (s.startedAt ? ` since ${s.startedAt.toISOString()}` : "") +
    (s.endedAt ? `, ended ${s.endedAt.toISOString()}` : "") +
    (s.duplicateOf
      ? ` — duplicate of ${s.duplicateOf}: ${
        s.duplicateResolvedAt
          ? `cancelled at ${s.duplicateResolvedAt.toISOString()}, refunded ${
            formatAmount(s.duplicateRefundedAmount ?? 0, s.currency ?? "gbp")
          }`
          : "being cancelled and refunded"
      }`
      : "");
  return {
    code: 0,
    lines: [
      `email                 ${person.email}`,
      `user id               ${person.id}`,
      `tier                  ${person.tier}`,
      `paid access now       ${
        hasPaidAccess(person, now, services.config.pastDueGraceDays) ? "yes" : "no"
      }`,
      `stripe customer       ${show(person.stripeCustomerId)}`,
      `subscription          ${show(person.stripeSubscriptionId)} (${
        show(person.stripeSubscriptionStatus)
      })`,
      `trial ends            ${show(person.stripeTrialEndAt)}`,
      `credit until          ${show(person.creditUntil)} (${
        creditDaysLeft(person, now)
      } days left)`,
      `past due since        ${show(person.stripePastDueSince)}`,
      ...subscriptions.map(subscriptionLine),
      `referrals             ${stats.joined} joined, ${stats.converted} converted, ${stats.activeCredits} active credits`,
      ...grants.map((g) =>
        `credit grant          ${
          g.days > 0 ? "+" : ""
        }${g.days}d ${g.reason} at ${g.grantedAt.toISOString()}${g.note ? ` (${g.note})` : ""}`
      ),
    ],
  };
}

async function grantCreditCommand(services: AdminServices, args: string[]): Promise<CommandResult> {
  const { values } = parseArgs({
    args,
    options: { email: { type: "string" }, days: { type: "string" }, reason: { type: "string" } },
  });
  if (!values.email) throw new UsageError("--email is required");
  const email = emailSchema.safeParse(values.email);
  if (!email.success) throw new UsageError(`"${values.email}" is not a valid email address`);
  if (values.days === undefined) throw new UsageError("--days is required");
  const days = wholeNumber(values.days, "--days", 1, 3650);
  const person = await findUserByEmail(services.db, email.data);
  if (!person) throw new UsageError(`no account for ${email.data}`);
  const now = services.now();
  const { creditUntil: until } = await withTransaction(
    services.db,
    (tx) =>
      grantCredit(tx, {
        userId: person.id,
        days,
        reason: "admin_grant",
        note: values.reason ?? null,
      }, now),
  );
  services.log.info("credit.admin_grant", { user_id: person.id, days });
  await services.jobs.wake();
  return {
    code: 0,
    lines: [`${email.data}: +${days} days, paid access until ${until.toISOString()}`],
  };
}

async function referrals(services: AdminServices, args: string[]): Promise<CommandResult> {
  const { values } = parseArgs({
    args,
    options: { held: { type: "boolean" }, limit: { type: "string" } },
  });
  const limit = values.limit === undefined ? 50 : wholeNumber(values.limit, "--limit", 1, 10_000);
  const rows = await referralsForOperators(services.db, { heldOnly: values.held ?? false, limit });
  if (rows.length === 0) {
    return { code: 0, lines: [values.held ? "no held referrals" : "no referrals"] };
  }
  return {
    code: 0,
    lines: rows.map((r) => {
      const reward = r.rewardStatus === null
        ? "not converted"
        : r.rewardStatus === "held"
        ? `HELD (${
          r.holdReason === "same_card" ? "paid with a card the referrer has used" : r.holdReason
        })`
        : r.rewardStatus === "credited"
        ? `credited${r.referrerCapped ? " (friend only: the referrer reached the yearly cap)" : ""}`
        : `${r.rewardStatus}: ${r.reversalCause}`;
      return `${r.id}  ${r.createdAt.toISOString()}  ${
        r.referrerEmail ?? "(deleted)"
      } → ${r.buyerEmail}  ${reward}` +
        (r.convertingChargeId ? `  ${r.convertingChargeId}` : "");
    }),
  };
}

async function approveReferralCommand(
  services: AdminServices,
  args: string[],
): Promise<CommandResult> {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  if (positionals.length !== 1) {
    throw new UsageError("approve-referral takes exactly one referral id");
  }
  const id = wholeNumber(positionals[0], "the referral id", 1, Number.MAX_SAFE_INTEGER);
  const status = await withTransaction(
    services.db,
    (tx) => approveReferral(tx, id, services.now(), services.config.referralRewardsPerYear),
  );
  await services.jobs.wake();
  services.log.info("referral.approved", { referral_id: id, reward: status });
  return {
    code: 0,
    lines: [
      status === "credited"
        ? `referral ${id}: credited`
        : `referral ${id}: approved, but its payment was refunded or disputed, so nothing is credited`,
    ],
  };
}

async function voidReferralCommand(
  services: AdminServices,
  args: string[],
): Promise<CommandResult> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { reason: { type: "string" } },
  });
  if (positionals.length !== 1) throw new UsageError("void-referral takes exactly one referral id");
  const reason = values.reason?.trim();
  if (!reason) throw new UsageError("--reason is required: say why the reward is taken back");
  const id = wholeNumber(positionals[0], "the referral id", 1, Number.MAX_SAFE_INTEGER);
  await withTransaction(services.db, (tx) => voidReferral(tx, id, reason, services.now()));
  await services.jobs.wake();
  services.log.info("referral.voided", { referral_id: id, reason });
  return { code: 0, lines: [`referral ${id}: voided (${reason}); both sides' days taken back`] };
}

function wholeNumber(text: string, name: string, min: number, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new UsageError(`${name} must be a whole number from ${min} to ${max} (got "${text}")`);
  }
  return Number(text);
}

async function jobs(services: AdminServices, args: string[]): Promise<CommandResult> {
  const { values } = parseArgs({
    args,
    options: { failed: { type: "boolean" }, kind: { type: "string" }, limit: { type: "string" } },
  });
  const limit = values.limit === undefined ? 50 : wholeNumber(values.limit, "--limit", 1, 10_000);
  const rows = await listJobs(services.db, {
    failedOnly: values.failed ?? false,
    kind: values.kind ?? null,
    limit,
  });
  if (rows.length === 0) return { code: 0, lines: ["no jobs"] };
  return {
    code: 0,
    lines: rows.map((job) => {
      const state = job.failedAt
        ? `FAILED after ${job.attempts} attempts: ${job.lastError}`
        : job.doneAt
        ? `done ${job.doneAt.toISOString()}`
        : job.attempts > 0
        ? `retrying (attempt ${job.attempts + 1} at ${job.runAt.toISOString()}): ${job.lastError}`
        : `due ${job.runAt.toISOString()}`;
      return `${job.id}  ${job.kind}  ${job.key}  ${state}`;
    }),
  };
}

async function retryJob(services: AdminServices, args: string[]): Promise<CommandResult> {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  if (positionals.length !== 1) throw new UsageError("retry-job takes exactly one job id");
  const id = wholeNumber(positionals[0], "the job id", 1, Number.MAX_SAFE_INTEGER);
  if (!await retryFailedJob(services.db, id, services.now())) {
    throw new UsageError(`job ${id} has not failed (or does not exist)`);
  }
  await services.jobs.wake();
  return { code: 0, lines: [`job ${id}: due again now`] };
}

async function portalConfig(services: AdminServices, args: string[]): Promise<CommandResult> {
  parseArgs({ args, options: {} });
  if (!services.stripe) throw new UsageError("portal-config needs STRIPE_API_KEY");
  const { id, created } = await ensurePortalConfiguration(
    services.stripe,
    services.config.siteUrl,
  );
  return {
    code: 0,
    lines: [
      `${created ? "created" : "updated"} portal configuration ${id}`,
      `set STRIPE_PORTAL_CONFIGURATION=${id}`,
    ],
  };
}

async function notices(services: AdminServices, args: string[]): Promise<CommandResult> {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  if (positionals.length !== 1) throw new UsageError("notices takes exactly one email address");
  const person = await findUserByEmail(services.db, positionals[0]);
  if (!person) throw new UsageError(`no account for ${positionals[0]}`);
  const sent = await services.db<
    { kind: string; trigger: string; sentAt: Date; toAddress: string; messageId: string | null }[]
  >`
    select kind, trigger, sent_at, to_address, message_id from notices
    where user_id = ${person.id} order by sent_at desc, id desc`;
  if (sent.length === 0) return { code: 0, lines: ["no notices"] };
  return {
    code: 0,
    lines: sent.map((n) =>
      `${n.sentAt.toISOString()}  ${n.kind}  ${n.trigger}  to ${n.toAddress}  ${n.messageId ?? ""}`
    ),
  };
}
