/**
 * Running due jobs, in any instance: promptly when woken after a commit that enqueued work, and
 * on a schedule — a timer in a long-running server, `Deno.cron` where the platform runs it (Deno
 * Deploy stops idle isolates, but it runs cron handlers) — so that nothing depends on one process.
 */
import type { Services } from "../services.ts";
import {
  backoffSeconds,
  claimDueJobs,
  type Job,
  markAttemptFailed,
  markDone,
  runJobLater,
} from "./queue.ts";

/** What a job's work is given; its `job.key` and `job.payload` say what to do. */
export type JobServices = Pick<Services, "config" | "db" | "log" | "now" | "stripe" | "mailer">;

/**
 * A kind of job's work: one job at a time, or — for a kind whose jobs all read the same kind of
 * thing first — `forBatch`, which reads it for every job of the kind in a claimed batch at once,
 * in one statement, and gives back each job's work. A failure of that read fails each job's
 * attempt, as if its own read had failed.
 */
export type JobHandler =
  | ((services: JobServices, job: Job) => Promise<void>)
  | { forBatch(services: JobServices, jobs: Job[]): Promise<(job: Job) => Promise<void>> };

/**
 * Thrown by a job whose work cannot be done yet (it waits on something outside the app, such as a
 * subscription's failed payment): the job runs again at `at`, and the wait is not an attempt.
 */
export class RunLater extends Error {
  override name = "RunLater";
  constructor(readonly at: Date, reason: string) {
    super(reason);
  }
}

/** How long a claimed job is a runner's before another may take it (a runner that died). */
export const LEASE_SECONDS = 120;

/** Jobs claimed at once: they run in turn, each while its lease holds, and are marked together. */
export const CLAIM_BATCH = 10;

export interface JobRunner {
  /** Run every due job now (after a commit that enqueued one); resolves when none is left. */
  wake(): Promise<void>;
  /** Run due jobs on a schedule as well, until `stop()`. */
  start(options: { intervalMs: number }): void;
  stop(): Promise<void>;
}

export function createJobRunner(
  services: JobServices,
  handlers: Readonly<Record<string, JobHandler>>,
): JobRunner {
  let running: Promise<void> | null = null;
  let again = false;
  let timer: ReturnType<typeof setInterval> | undefined;

  const fieldsOf = (job: Job) => ({
    job_id: job.id,
    kind: job.kind,
    key: job.key,
    attempt: job.attempts,
  });

  /** Run a claimed job; true when its work is done (the caller marks it), else settled here. */
  async function runOne(job: Job, work: (job: Job) => Promise<void>): Promise<boolean> {
    const fields = fieldsOf(job);
    try {
      await work(job);
      return true;
    } catch (error) {
      if (error instanceof RunLater) {
        await runJobLater(services.db, job, error.at, error.message);
        services.log.info("job.later", { ...fields, reason: error.message, run_at: error.at });
        return false;
      }
      const now = services.now();
      const retryAt = new Date(now.getTime() + backoffSeconds(job.attempts) * 1000);
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      const outcome = await markAttemptFailed(services.db, job, message, now, retryAt);
      if (outcome === "failed") services.log.error("job.failed", { ...fields, error });
      else services.log.warn("job.retry", { ...fields, error, retry_at: retryAt.toISOString() });
      return false;
    }
  }

  /** Each kind's work for the jobs of a claimed batch: what `forBatch` kinds read, read once. */
  async function workFor(jobs: Job[]): Promise<Map<string, (job: Job) => Promise<void>>> {
    const work = new Map<string, (job: Job) => Promise<void>>();
    for (const kind of new Set(jobs.map((job) => job.kind))) {
      const handler = handlers[kind];
      if (!handler) {
        work.set(kind, () => Promise.reject(new Error(`no handler for jobs of kind "${kind}"`)));
      } else if (typeof handler === "function") {
        work.set(kind, (job) => handler(services, job));
      } else {
        try {
          work.set(kind, await handler.forBatch(services, jobs.filter((job) => job.kind === kind)));
        } catch (error) {
          work.set(kind, () => Promise.reject(error));
        }
      }
    }
    return work;
  }

  /** Run a claimed batch in turn, and mark the jobs whose work is done in one statement. */
  async function runBatch(jobs: Job[]): Promise<void> {
    const done: Job[] = [];
    try {
      const work = await workFor(jobs);
      for (const job of jobs) {
        // Earlier jobs of the batch took so long that this one's lease lapsed: another runner
        // may have it now, and the next claim takes it again if not.
        if (job.lockedUntil! <= services.now()) continue;
        if (await runOne(job, work.get(job.kind)!)) done.push(job);
      }
    } finally {
      await markDone(services.db, done, services.now());
      for (const job of done) services.log.info("job.done", fieldsOf(job));
    }
  }

  async function drain(): Promise<void> {
    do {
      again = false;
      for (;;) {
        const jobs = await claimDueJobs(services.db, services.now(), LEASE_SECONDS, CLAIM_BATCH);
        if (jobs.length === 0) break;
        await runBatch(jobs);
      }
    } while (again);
  }

  function wake(): Promise<void> {
    if (running) {
      again = true;
      return running;
    }
    running = drain()
      .catch((error) => services.log.error("job.runner_failed", { error }))
      .finally(() => running = null);
    return running;
  }

  return {
    wake,
    start({ intervalMs }) {
      timer ??= setInterval(() => void wake(), intervalMs);
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}

/**
 * Where the platform runs cron handlers (Deno Deploy, which may stop an idle isolate and so its
 * timers), run due jobs every minute too. Deno Deploy wants crons registered while the main
 * module evaluates, before anything else is awaited; elsewhere `Deno.cron` does not exist and
 * this does nothing.
 */
export function runJobsOnCron(wake: () => Promise<void>): boolean {
  const cron =
    (Deno as { cron?: (name: string, schedule: string, fn: () => Promise<void>) => void })
      .cron;
  if (typeof cron !== "function") return false;
  cron("read.markets due jobs", "* * * * *", wake);
  return true;
}
