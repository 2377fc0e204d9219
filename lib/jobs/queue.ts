/**
 * Durable jobs in PostgreSQL: work that must happen because of a committed change — a Stripe
 * call, an email — written in the same transaction as the change, so it is never lost and never
 * done for a change that rolled back.
 *
 * Each job has a `(kind, key)` that names its trigger, unique, so the same trigger (an event
 * Stripe delivers five times, two instances racing) makes one job. A runner claims a due job in
 * one statement (`FOR UPDATE SKIP LOCKED`, so two runners never take the same one) together with
 * a lease; it does the work outside any transaction and then marks it done, or schedules the
 * next attempt with backoff, or — after the last attempt — leaves it failed for an operator to
 * see and retry. A runner that dies lets its lease lapse and the job is taken again, so every
 * job's work must be safe to do twice (Stripe idempotency keys, a record of each email sent).
 * One statement per step and no session state: it works through a transaction-mode pooler.
 */
import type postgres from "postgres";
import type { Queryable, Tx } from "../db/client.ts";

export interface NewJob {
  kind: string;
  key: string;
  payload?: Record<string, unknown>;
  /** Not before this moment (default: at once). */
  runAt?: Date;
  maxAttempts?: number;
}

export interface Job {
  id: number;
  kind: string;
  key: string;
  payload: Record<string, unknown>;
  runAt: Date;
  attempts: number;
  maxAttempts: number;
  lockedUntil: Date | null;
  lastError: string | null;
  doneAt: Date | null;
  failedAt: Date | null;
  createdAt: Date;
}

export const DEFAULT_MAX_ATTEMPTS = 10;

/** Transactions that enqueued a job, so whoever committed one knows to wake the runner. */
const enqueuing = new WeakSet<Tx>();

/** Whether `tx` enqueued a job (one that was not already there). */
export function enqueuedIn(tx: Tx): boolean {
  return enqueuing.has(tx);
}

/** Enqueue inside the caller's transaction; false when this trigger already made its job. */
export async function enqueue(tx: Tx, job: NewJob, now: Date): Promise<boolean> {
  const rows = await tx`${enqueueWhen(tx, [job], now, tx`true`)}`;
  if (rows.length > 0) noteEnqueued(tx);
  return rows.length > 0;
}

/**
 * The insert that enqueues `jobs` if `condition` holds (a trigger that already made its job is
 * skipped), returning each new job's id: for a statement that makes a change and enqueues what
 * it owes together, only if the change was made. Whoever runs it calls `noteEnqueued` when a job
 * came back.
 */
export function enqueueWhen(
  tx: Tx,
  jobs: readonly NewJob[],
  now: Date,
  condition: postgres.Fragment,
): postgres.Fragment {
  const rows = jobs.map((job, i) =>
    tx`${i === 0 ? tx`` : tx`,`} (${job.kind}::text, ${job.key}::text,
      ${tx.json((job.payload ?? {}) as Parameters<Tx["json"]>[0])}::jsonb,
      ${job.runAt ?? now}::timestamptz, ${job.maxAttempts ?? DEFAULT_MAX_ATTEMPTS}::int)`
  );
  return tx`
    insert into jobs (kind, key, payload, run_at, max_attempts, created_at)
    select owed.*, ${now}::timestamptz
    from (values ${rows}) as owed (kind, key, payload, run_at, max_attempts)
    where ${condition}
    on conflict (kind, key) do nothing
    returning id`;
}

/** `tx` enqueued a job: its committer wakes the runner (`enqueuedIn`). */
export function noteEnqueued(tx: Tx): void {
  enqueuing.add(tx);
}

/**
 * Take up to `limit` due jobs, the longest due first, each for `leaseSeconds`; none when none is
 * due. One statement however many, which reads only the jobs it takes however long the backlog:
 * they come off the front of the `jobs_due` index, in its order, and are updated by id (the
 * `array(...)` keeps the planner from joining them to a scan of the whole table).
 */
export async function claimDueJobs(
  db: Queryable,
  now: Date,
  leaseSeconds: number,
  limit: number,
): Promise<Job[]> {
  const leaseEnd = new Date(now.getTime() + leaseSeconds * 1000);
  const jobs = await db<Job[]>`
    update jobs set locked_until = ${leaseEnd}, attempts = attempts + 1
    where id = any(array(
      select id from jobs
      where done_at is null and failed_at is null and run_at <= ${now}
        and (locked_until is null or locked_until < ${now})
      order by run_at, id
      limit ${limit}
      for update skip locked))
    returning *`;
  return [...jobs].sort((a, b) => a.runAt.getTime() - b.runAt.getTime() || a.id - b.id);
}

/**
 * Mark claimed jobs done, in one statement. A job whose lease lapsed and that another runner took
 * since (its attempt count moved on) is left alone: that runner settles it. The jobs are found by
 * id (`= any`), so the statement reads them alone, never a scan of every job ever run.
 */
export async function markDone(db: Queryable, jobs: readonly Job[], now: Date): Promise<void> {
  if (jobs.length === 0) return;
  const ids = jobs.map((job) => job.id);
  await db`
    update jobs set done_at = ${now}, locked_until = null, last_error = null
    from unnest(${ids}::bigint[], ${jobs.map((job) => job.attempts)}::int[]) as done(id, attempts)
    where jobs.id = any(${ids}::bigint[]) and jobs.id = done.id and jobs.attempts = done.attempts`;
}

/** After a failed attempt: try again at `retryAt`, or — after the last attempt — fail for good. */
export async function markAttemptFailed(
  db: Queryable,
  job: Job,
  error: string,
  now: Date,
  retryAt: Date,
): Promise<"retry" | "failed"> {
  const last = job.attempts >= job.maxAttempts;
  await db`
    update jobs set locked_until = null, last_error = ${error.slice(0, 2000)},
      failed_at = ${last ? now : null}, run_at = ${last ? job.runAt : retryAt}
    where id = ${job.id} and attempts = ${job.attempts}`;
  return last ? "failed" : "retry";
}

/** A job that must wait (see `RunLater`): due again at `at`, with the attempt given back. */
export async function runJobLater(db: Queryable, job: Job, at: Date, reason: string) {
  await db`
    update jobs set locked_until = null, run_at = ${at}, attempts = attempts - 1,
      last_error = ${reason.slice(0, 2000)}
    where id = ${job.id} and attempts = ${job.attempts}`;
}

/** The wait before attempt `attempts + 1`: 30 s, doubling, at most 6 hours. */
export function backoffSeconds(attempts: number): number {
  return Math.min(30 * 2 ** Math.max(0, attempts - 1), 6 * 3600);
}

/** Jobs for operators, newest first: all, or only those that failed for good. */
export async function listJobs(
  db: Queryable,
  filter: { failedOnly: boolean; kind: string | null; limit: number },
): Promise<Job[]> {
  return await db<Job[]>`
    select * from jobs
    where (${filter.failedOnly} = false or failed_at is not null)
      and (${filter.kind}::text is null or kind = ${filter.kind})
    order by created_at desc, id desc
    limit ${filter.limit}`;
}

/** Give a failed job a fresh set of attempts, starting now; false when it is not failed. */
export async function retryFailedJob(db: Queryable, id: number, now: Date): Promise<boolean> {
  const rows = await db`
    update jobs set failed_at = null, attempts = 0, run_at = ${now}, locked_until = null
    where id = ${id} and failed_at is not null
    returning id`;
  return rows.length > 0;
}
