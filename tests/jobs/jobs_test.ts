/**
 * Durable jobs: enqueued in the transaction of the change that causes them (never for a change
 * that rolled back), each run once however many runners race for it, retried with backoff,
 * failed for good after the last attempt (where operators see and retry them), and taken again
 * when the runner that claimed one died.
 */
import assert from "node:assert/strict";
import { createTestApp, testServices } from "../helpers/app.ts";
import { createTestDatabase } from "../helpers/db.ts";
import { testClock } from "../helpers/clock.ts";
import { startSmtpSink } from "../helpers/smtp.ts";
import {
  deliverOk,
  invoiceObject,
  stripeEvent,
  subscriptionObject,
  WEBHOOK_SECRET,
} from "../helpers/stripe_events.ts";
import { createUser } from "../helpers/users.ts";
import { connect, type Sql, withTransaction } from "../../lib/db/client.ts";
import { claimDueJobs, enqueue, markDone } from "../../lib/jobs/queue.ts";
import { CLAIM_BATCH, createJobRunner, LEASE_SECONDS } from "../../lib/jobs/runner.ts";
import { runAdminCommand } from "../../lib/admin/commands.ts";

const START = new Date("2027-03-01T09:00:00Z");

Deno.test("twenty trials ending, each event delivered five times to two instances whose runners race: twenty emails", async () => {
  const smtp = await startSmtpSink();
  const db = await createTestDatabase();
  const env = {
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    EMAIL_TRANSPORT: "smtp",
    SMTP_URL: smtp.url,
  };
  const instances = await Promise.all([1, 2].map(() => createTestApp({ env, db })));
  try {
    const events = [];
    for (let i = 0; i < 20; i++) {
      const user = await createUser(db.sql, { email: `trial${i}@example.com` });
      events.push(stripeEvent(
        "customer.subscription.trial_will_end",
        subscriptionObject(`sub_race_${i}`, user.stripeCustomerId!, "trialing", {
          trial_end: Math.floor(START.getTime() / 1000) + 3 * 86_400,
        }),
      ));
    }
    const deliveries = events.flatMap((event) => [1, 2, 3, 4, 5].map(() => event));
    await Promise.all(deliveries.map((event, i) => deliverOk(instances[i % 2], event)));
    await Promise.all(instances.map((app) => app.jobs.wake()));
    await Promise.all(instances.map((app) => app.jobs.wake()));
    assert.equal(smtp.messages.length, 20);
    assert.equal(new Set(smtp.messages.map((m) => m.to[0])).size, 20, "one each");
    const [{ jobs, done }] = await db.sql`
      select count(*)::int as jobs, count(done_at)::int as done from jobs`;
    assert.deepEqual([jobs, done], [20, 20]);
    const sentBy = instances.map((app) => app.logs.records("notice.sent").length);
    assert.equal(sentBy[0] + sentBy[1], 20);
  } finally {
    await Promise.all(instances.map((app) => app.close()));
    await db.close();
    await smtp.close();
  }
});

Deno.test("a change that rolls back leaves no job and sends nothing", async () => {
  const smtp = await startSmtpSink();
  const app = await createTestApp({
    env: { STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, EMAIL_TRANSPORT: "smtp", SMTP_URL: smtp.url },
  });
  try {
    const referrer = await createUser(app.db.sql);
    const buyer = await createUser(app.db.sql, { referredBy: referrer });
    // The referrer's side of the conversion fails after the buyer's notice was enqueued.
    await app.db.sql.unsafe(`
      create function refuse_referrer() returns trigger language plpgsql as
        $$ begin
          if new.reason = 'referral_referrer' then
            raise exception 'refused' using errcode = '23514';
          end if;
          return new;
        end $$;
      create trigger refuse_referrer before insert on credit_grants
        for each row execute function refuse_referrer();`);
    const paid = stripeEvent(
      "invoice.paid",
      invoiceObject(buyer.stripeCustomerId!, 700, "subscription_create"),
    );
    assert.equal(await deliverOk(app, paid), "handler_error");
    await app.jobs.wake();
    const [{ count }] = await app.db.sql`select count(*)::int from jobs`;
    assert.equal(count, 0, "the job went with the rolled-back change");
    assert.equal(smtp.messages.length, 0);
  } finally {
    await app.close();
    await smtp.close();
  }
});

/**
 * A runner on a fresh database, on a test clock, for jobs of kind "note": it records each key it
 * runs, and calls `during` while the job runs.
 */
async function noteRunner(
  during: (key: string, clock: ReturnType<typeof testClock>) => void = () => {},
) {
  const clock = testClock(START);
  const db = await createTestDatabase();
  const ran: string[] = [];
  const services = await testServices(db, { now: clock.now });
  const runner = createJobRunner(services, {
    note: (_services, job) => {
      ran.push(job.key);
      during(job.key, clock);
      return Promise.resolve();
    },
  });
  return { clock, db, ran, runner };
}

Deno.test("a job whose runner died is taken again once its lease lapses", async () => {
  const { clock, db, ran, runner } = await noteRunner();
  try {
    await withTransaction(db.sql, (tx) => enqueue(tx, { kind: "note", key: "k1" }, clock.now()));
    // A runner claims it, then its process dies: nothing settles the job.
    const claimed = await claimDueJobs(db.sql, clock.now(), LEASE_SECONDS, 1);
    assert.deepEqual(claimed.map((job) => job.key), ["k1"]);
    await runner.wake();
    assert.deepEqual(ran, [], "leased to the runner that died");
    clock.advance(LEASE_SECONDS * 1000 + 1000);
    await runner.wake();
    assert.deepEqual(ran, ["k1"], "taken again after the lease");
    const [job] = await db.sql`select attempts, done_at from jobs`;
    assert.equal(job.attempts, 2);
    assert.ok(job.doneAt);
  } finally {
    await runner.stop();
    await db.close();
  }
});

Deno.test("jobs claimed together run in due order; one whose lease lapsed meanwhile is left to the next claim", async () => {
  const { clock, db, ran, runner } = await noteRunner((key, clock) => {
    // The third job of the first batch outlasts the batch's leases.
    if (key === "k02") clock.advance(LEASE_SECONDS * 1000 + 1000);
  });
  try {
    const keys = Array.from(
      { length: CLAIM_BATCH + 5 },
      (_, i) => `k${String(i).padStart(2, "0")}`,
    );
    await withTransaction(db.sql, async (tx) => {
      // Enqueued last due first: they run by when they are due, not by when they were enqueued.
      for (const [i, key] of [...keys.entries()].reverse()) {
        const runAt = new Date(START.getTime() - (keys.length - i) * 1000);
        await enqueue(tx, { kind: "note", key, runAt }, clock.now());
      }
    });
    await runner.wake();
    assert.deepEqual(ran, keys, "every job ran once, in due order");
    const attempts = await db.sql<{ key: string; attempts: number }[]>`
      select key, attempts from jobs where done_at is not null order by key`;
    assert.equal(attempts.length, keys.length);
    const claimedTwice = attempts.filter((job) => job.attempts === 2).map((job) => job.key);
    assert.deepEqual(
      claimedTwice,
      keys.slice(3, CLAIM_BATCH),
      "the lapsed ones were claimed again",
    );
  } finally {
    await runner.stop();
    await db.close();
  }
});

Deno.test("claiming from a backlog of due jobs, and marking them done, read the few jobs taken, not the whole backlog", async () => {
  const db = await createTestDatabase();
  const sent: { statement: string; parameters: readonly unknown[] }[] = [];
  const traced = connect(db.url, {
    max: 1,
    onQuery: (statement, parameters) => sent.push({ statement, parameters }),
  });
  try {
    const backlog = 2000;
    await db.sql`
      insert into jobs (kind, key, run_at, max_attempts, created_at)
      select 'note', 'k' || n, ${START}::timestamptz - n * interval '1 second', 10, ${START}
      from generate_series(1, ${backlog}) as n`;
    await db.sql`analyze jobs`;
    const claimed = await claimDueJobs(traced, START, LEASE_SECONDS, CLAIM_BATCH);
    assert.deepEqual(
      claimed.map((job) => job.key),
      Array.from({ length: CLAIM_BATCH }, (_, i) => `k${backlog - i}`),
      "the longest due first",
    );
    await markDone(traced, claimed, START);
    const [{ done }] = await db.sql`select count(done_at)::int as done from jobs`;
    assert.equal(done, CLAIM_BATCH);
    for (
      const [step, pattern] of [["claim", /set locked_until/], ["mark", /set done_at/]] as const
    ) {
      const { statement, parameters } = sent.find((query) => pattern.test(query.statement))!;
      // The same statement again, measured, in a transaction that is rolled back.
      const plan = await explainAnalyze(db.sql, statement, parameters);
      const jobRowsRead = rowsScanned(plan, "jobs");
      assert.ok(
        jobRowsRead <= 2 * CLAIM_BATCH,
        `${step}: read ${jobRowsRead} rows of jobs for ${CLAIM_BATCH} of ${backlog}`,
      );
    }
  } finally {
    await traced.end();
    await db.close();
  }
});

interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Actual Rows": number;
  "Actual Loops": number;
  Plans?: PlanNode[];
}

async function explainAnalyze(
  sql: Sql,
  statement: string,
  parameters: readonly unknown[],
): Promise<PlanNode> {
  let plan: PlanNode | null = null;
  await withTransaction(sql, async (tx) => {
    const [row] = await tx.unsafe(
      `explain (analyze, format json) ${statement}`,
      parameters as never[],
    );
    // The one column, "QUERY PLAN", whatever the driver's name transform makes of it.
    plan = (Object.values(row)[0] as { Plan: PlanNode }[])[0].Plan;
    throw new RolledBack();
  }).catch((error) => {
    if (!(error instanceof RolledBack)) throw error;
  });
  return plan!;
}

class RolledBack extends Error {}

/** The rows the scans of `table` in a plan returned, over all their loops. */
function rowsScanned(node: PlanNode, table: string): number {
  const own = node["Relation Name"] === table && /Scan/.test(node["Node Type"])
    ? node["Actual Rows"] * node["Actual Loops"]
    : 0;
  return (node.Plans ?? []).reduce((sum, child) => sum + rowsScanned(child, table), own);
}

Deno.test("failing jobs back off, fail for good after their last attempt, and an operator can retry them", async () => {
  const clock = testClock(START);
  const db = await createTestDatabase();
  let failures = 3;
  const services = await testServices(db, { now: clock.now });
  const runner = createJobRunner(services, {
    flaky: () => failures-- > 0 ? Promise.reject(new Error("not today")) : Promise.resolve(),
  });
  try {
    await withTransaction(
      db.sql,
      (tx) => enqueue(tx, { kind: "flaky", key: "f1", maxAttempts: 3 }, clock.now()),
    );
    const runs: number[] = [];
    for (const wait of [0, 30, 60]) {
      clock.advance(wait * 1000);
      await runner.wake();
      const [job] = await db.sql`select attempts, run_at, failed_at from jobs`;
      runs.push(job.attempts);
      if (job.failedAt === null) {
        const delay = (job.runAt.getTime() - clock.now().getTime()) / 1000;
        assert.equal(delay, 30 * 2 ** (job.attempts - 1), "backoff doubles from 30 s");
      }
    }
    assert.deepEqual(runs, [1, 2, 3]);
    const [failed] = await db.sql`select id, failed_at, last_error from jobs`;
    assert.ok(failed.failedAt, "failed for good after its third attempt");
    assert.match(failed.lastError, /not today/);

    const admin = { ...services, jobs: runner };
    const listed = await runAdminCommand(admin, ["jobs", "--failed"]);
    assert.equal(listed.code, 0);
    assert.match(
      listed.lines[0],
      new RegExp(`^${failed.id}  flaky  f1  FAILED after 3 attempts: .*not today`),
    );
    const retried = await runAdminCommand(admin, ["retry-job", String(failed.id)]);
    assert.deepEqual(retried, { code: 0, lines: [`job ${failed.id}: due again now`] });
    const [done] = await db.sql`select done_at, failed_at from jobs`;
    assert.ok(done.doneAt, "ran at once, and succeeded");
    assert.equal(done.failedAt, null);
    const again = await runAdminCommand(admin, ["retry-job", String(failed.id)]);
    assert.equal(again.code, 1);
  } finally {
    await runner.stop();
    await db.close();
  }
});

Deno.test("a kind that reads for its whole batch reads once, for its own jobs only; if the read fails, each job's attempt fails", async () => {
  const clock = testClock(START);
  const db = await createTestDatabase();
  const services = await testServices(db, { now: clock.now });
  const reads: string[][] = [];
  let readFails = true;
  const ran: string[] = [];
  const runner = createJobRunner(services, {
    note: (_services, job) => {
      ran.push(job.key);
      return Promise.resolve();
    },
    letter: {
      forBatch(_services, jobs) {
        reads.push(jobs.map((job) => job.key));
        if (readFails) return Promise.reject(new Error("the batch's read failed"));
        return Promise.resolve((job) => {
          ran.push(`${job.key} after the read`);
          return Promise.resolve();
        });
      },
    },
  });
  try {
    await withTransaction(db.sql, async (tx) => {
      for (const [kind, key] of [["letter", "l1"], ["note", "n1"], ["letter", "l2"]]) {
        await enqueue(tx, { kind, key }, clock.now());
      }
    });
    await runner.wake();
    assert.deepEqual(reads, [["l1", "l2"]], "one read, for the letters only");
    assert.deepEqual(ran, ["n1"]);
    const failed = await db.sql<{ key: string; attempts: number; lastError: string }[]>`
      select key, attempts, last_error from jobs where kind = 'letter' order by key`;
    assert.deepEqual(
      failed.map((job) => [job.key, job.attempts, job.lastError]),
      [["l1", 1, "Error: the batch's read failed"], ["l2", 1, "Error: the batch's read failed"]],
    );

    readFails = false;
    clock.advance(60_000);
    await runner.wake();
    assert.deepEqual(reads, [["l1", "l2"], ["l1", "l2"]]);
    assert.deepEqual(ran, ["n1", "l1 after the read", "l2 after the read"]);
    const [{ done }] = await db.sql`select count(done_at)::int as done from jobs`;
    assert.equal(done, 3);
  } finally {
    await runner.stop();
    await db.close();
  }
});
