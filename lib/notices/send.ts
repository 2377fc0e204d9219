/**
 * Sending notices, exactly once per trigger: each is a durable job enqueued in the transaction
 * of the change that owes it (an event, a grant), keyed by kind and trigger, so a trigger that
 * arrives five times or in two instances at once makes one job; the job records what it sent
 * (`notices`, also unique per kind and trigger) and a job that finds its notice recorded sends
 * nothing. Some notices are checked again when their job runs: credit that was extended meanwhile
 * is not ending, and a payment that went through needs no warning.
 */
import type { Queryable, Tx } from "../db/client.ts";
import { withTransaction } from "../db/client.ts";
import { enqueue, type Job, type NewJob } from "../jobs/queue.ts";
import type { JobHandler, JobServices } from "../jobs/runner.ts";
import type { User } from "../auth/users.ts";
import { pastDueAccessEnds } from "../billing/entitlement.ts";
import { findSubscription } from "../billing/subscriptions.ts";
import { type NoticeData, type NoticeKind, renderNotice } from "./templates.ts";
import { DAY_MS } from "../time.ts";

export const SEND_NOTICE_JOB = "send_notice";

/** A notice owed because of `trigger` (what caused it: an invoice attempt, a trial's end…). */
export interface OwedNotice<K extends NoticeKind> {
  kind: K;
  userId: number;
  trigger: string;
  /** What it says; null for what is only known when it is sent (see `resolve`). */
  data: NoticeData[K] | null;
  /** Not before this moment (default: at once). */
  runAt?: Date;
}

export async function enqueueNotice<K extends NoticeKind>(
  tx: Tx,
  notice: OwedNotice<K>,
  now: Date,
): Promise<boolean> {
  return await enqueue(tx, noticeJob(notice), now);
}

/** The job that sends `notice`, for a statement that enqueues it with its change (`enqueueWhen`). */
export function noticeJob<K extends NoticeKind>(notice: OwedNotice<K>): NewJob {
  return {
    kind: SEND_NOTICE_JOB,
    key: `${notice.kind}:${notice.trigger}`,
    payload: {
      kind: notice.kind,
      userId: notice.userId,
      trigger: notice.trigger,
      data: notice.data,
    },
    runAt: notice.runAt,
  };
}

/** What a notice job carries. */
interface NoticeJob {
  kind: NoticeKind;
  userId: number;
  trigger: string;
  data: NoticeData[NoticeKind] | null;
}

/**
 * The job: the recipients of a claimed batch's notices are read together, then each notice is
 * sent in turn — unless it was sent already (a job run again after sending), or is for nobody.
 */
export const sendNotice: JobHandler = {
  async forBatch(services, jobs) {
    const recipients = await recipientsOf(services.db, jobs);
    return (job) => send(services, job.payload as unknown as NoticeJob, recipients.get(job.id)!);
  },
};

async function send(services: JobServices, notice: NoticeJob, recipient: Recipient): Promise<void> {
  const { kind, userId, trigger, data } = notice;
  const fields = { kind, user_id: userId, trigger };
  const { user, alreadySent } = recipient;
  if (alreadySent) return;
  if (!user) return services.log.info("notice.skipped", { ...fields, reason: "no such person" });
  if (user.deletedAt) {
    return services.log.info("notice.skipped", { ...fields, reason: "account deleted" });
  }
  const resolved = await resolve(services, kind, data, user, trigger);
  if (!resolved) return services.log.info("notice.skipped", { ...fields, reason: "not owed now" });
  const rendered = renderNotice(kind, resolved as never, services.config.siteUrl);
  const messageId = await services.mailer.send({ to: user.email, ...rendered });
  await services.db`
    insert into notices (kind, user_id, trigger, to_address, sent_at, message_id)
    values (${kind}, ${userId}, ${trigger}, ${user.email}, ${services.now()}, ${messageId})
    on conflict (kind, trigger) do nothing`;
  services.log.info("notice.sent", { ...fields, message_id: messageId });
}

/** The person a notice is for (null when there is none), and whether it was sent already. */
interface Recipient {
  user: User | null;
  alreadySent: boolean;
}

/**
 * Each notice job's recipient, by job id: one read for the whole batch. Each job's person and
 * notice are looked up by key (`offset 0` keeps the planner from turning a lookup into a hash
 * over the whole table, which it may do when its statistics think a table is small).
 */
async function recipientsOf(db: Queryable, jobs: Job[]): Promise<Map<number, Recipient>> {
  const notices = jobs.map((job) => job.payload as unknown as NoticeJob);
  const rows = await db<(Partial<User> & { jobId: number; noticeAlreadySent: boolean })[]>`
    select owed.job_id, recipient.*, sent.already as notice_already_sent
    from unnest(${jobs.map((job) => job.id)}::bigint[], ${notices.map((n) => n.userId)}::bigint[],
                ${notices.map((n) => n.kind)}::text[], ${notices.map((n) => n.trigger)}::text[])
      as owed (job_id, user_id, kind, trigger)
    left join lateral (select * from users where users.id = owed.user_id offset 0) recipient
      on true
    cross join lateral (
      select count(*) > 0 as already from notices
      where notices.kind = owed.kind and notices.trigger = owed.trigger
    ) sent`;
  return new Map(rows.map(({ jobId, noticeAlreadySent, ...user }) => [jobId, {
    user: user.id == null ? null : user as User,
    alreadySent: noticeAlreadySent,
  }]));
}

/** What the notice says now, or null when it is no longer owed. */
async function resolve(
  services: JobServices,
  kind: NoticeKind,
  data: NoticeData[NoticeKind] | null,
  user: User,
  trigger: string,
): Promise<NoticeData[NoticeKind] | null> {
  switch (kind) {
    case "credit_ending": {
      const { creditUntil } = data as NoticeData["credit_ending"];
      // More credit since, or a subscription that pays for access: nothing is ending.
      const extended = user.creditUntil?.toISOString() !== creditUntil;
      return extended || user.tier === "paid" ? null : data;
    }
    case "payment_failed": {
      const failed = data as NoticeData["payment_failed"];
      // Paid (or voided) since: no warning owed. Stripe says; its events may still be on the way.
      if (services.stripe) {
        const invoice = await services.stripe.invoices.retrieve(failed.invoiceId);
        if (invoice.status === "paid" || invoice.status === "void") return null;
      }
      const graceDays = services.config.pastDueGraceDays;
      const accessEnds = pastDueAccessEnds(user, graceDays) ??
        new Date(new Date(failed.failedAt).getTime() + graceDays * DAY_MS);
      const stopped = ["unpaid", "canceled"].includes(user.stripeSubscriptionStatus ?? "") ||
        accessEnds <= services.now();
      return { ...failed, accessEnds: accessEnds.toISOString(), stopped };
    }
    case "renewal_coming":
      return data ?? await monthlyReminder(services, trigger);
    default:
      return data;
  }
}

/** Monthly subscribers hear about their renewals every six months, from the first. */
export const MONTHLY_REMINDER_MONTHS = 6;
/** How long before the renewal that follows each six-month mark the reminder goes out. */
const REMINDER_DAYS_BEFORE = 7;

/** Schedule reminder `n` (1, 2, …) for a monthly subscription that started at `startedAt`. */
export async function scheduleMonthlyReminder(
  tx: Tx,
  subscription: { id: string; userId: number; startedAt: Date },
  n: number,
  now: Date,
): Promise<boolean> {
  return await enqueueNotice(tx, monthlyReminderNotice(subscription, n), now);
}

/** Reminder `n` (1, 2, …) for a monthly subscription that started at `startedAt`. */
export function monthlyReminderNotice(
  subscription: { id: string; userId: number; startedAt: Date },
  n: number,
): OwedNotice<"renewal_coming"> {
  const mark = new Date(subscription.startedAt);
  mark.setUTCMonth(mark.getUTCMonth() + MONTHLY_REMINDER_MONTHS * n);
  return {
    kind: "renewal_coming",
    userId: subscription.userId,
    trigger: `${subscription.id}:monthly:${n}`,
    data: null,
    runAt: new Date(mark.getTime() - REMINDER_DAYS_BEFORE * DAY_MS),
  };
}

/**
 * A monthly reminder as it stands when it is due: the next renewal's date and amount, if the
 * subscription is still monthly, live and not set to end — and the next reminder scheduled.
 */
async function monthlyReminder(
  services: JobServices,
  trigger: string,
): Promise<NoticeData["renewal_coming"] | null> {
  const [subscriptionId, , n] = trigger.split(":");
  const subscription = await findSubscription(services.db, subscriptionId);
  const monthly = subscription?.priceId === services.config.stripe.priceMonthly;
  if (!subscription || !monthly || subscription.endedAt || subscription.cancelAtPeriodEnd) {
    return null;
  }
  if (subscription.startedAt) {
    await withTransaction(services.db, (tx) =>
      scheduleMonthlyReminder(
        tx,
        {
          id: subscriptionId,
          userId: subscription.userId,
          startedAt: subscription.startedAt!,
        },
        Number(n) + 1,
        services.now(),
      ));
  }
  if (subscription.status !== "active" || !subscription.currentPeriodEnd) return null;
  return {
    renewsOn: subscription.currentPeriodEnd.toISOString(),
    price: subscription.amount !== null && subscription.currency
      ? { amount: subscription.amount, currency: subscription.currency }
      : null,
    plan: "monthly",
  };
}
