/**
 * Credit on the bill: for a person with a live subscription, every credit grant moves their next
 * charge back by the granted days, and taking a grant back undoes its move if the date has not
 * passed. Stripe is told through the subscription's `trial_end` (with no proration), so it
 * charges nothing until then.
 *
 * The moves are ours, recorded in `charge_moves`, one per grant; Stripe is brought in line with
 * them by a durable job. Moves of one subscription that build on each other form a chain from
 * the next charge the first one found (`base`): the charge is due at base plus the days of the
 * moves not undone. The job sets exactly that date, read afresh after each call until it holds
 * still, so two grants at once move the date by both, a replayed grant moves nothing, and a
 * Stripe failure is simply tried again.
 */
import type Stripe from "stripe";
import type { Queryable, Tx } from "../db/client.ts";
import { withTransaction } from "../db/client.ts";
import { mapRead, type Read, readOne, rowFromJson } from "../db/reads.ts";
import type { User } from "../auth/users.ts";
import type { Job } from "../jobs/queue.ts";
import { enqueue } from "../jobs/queue.ts";
import { type JobServices, RunLater } from "../jobs/runner.ts";
import { DAY_MS } from "../time.ts";
import { lockPerson } from "./entitlement.ts";
import { requireStripe } from "./stripe_calls.ts";

export const MOVE_NEXT_CHARGE_JOB = "move_next_charge";
export const SYNC_NEXT_CHARGE_JOB = "sync_next_charge";

/** Statuses whose next charge credit moves; a past-due one waits until it is paid. */
const MOVABLE = new Set(["trialing", "active", "past_due"]);
/** Stripe takes a `trial_end` at most two years ahead; further moves wait until they fit. */
const MAX_AHEAD_MS = 729 * DAY_MS;
/** How often a move waiting on a past-due subscription looks again. */
const PAST_DUE_RECHECK_MS = DAY_MS;

/** In a grant's transaction (the person's row locked): queue its move, for a subscriber. */
export async function queueChargeMove(
  tx: Tx,
  grant: { id: number; userId: number; days: number },
  now: Date,
): Promise<void> {
  const [person] = await tx<Pick<User, "stripeSubscriptionId" | "stripeSubscriptionStatus">[]>`
    select stripe_subscription_id, stripe_subscription_status from users
    where id = ${grant.userId}`;
  if (!person?.stripeSubscriptionId) return;
  if (!MOVABLE.has(person.stripeSubscriptionStatus ?? "")) return;
  await enqueue(tx, {
    kind: MOVE_NEXT_CHARGE_JOB,
    key: String(grant.id),
    payload: {
      grantId: grant.id,
      userId: grant.userId,
      subscriptionId: person.stripeSubscriptionId,
    },
  }, now);
}

/**
 * In a reversal's transaction (the person's row locked): undo the grant's move, unless the date
 * it moved the charge to has passed (those days were had). A move not yet planned never will be:
 * planning skips a reversed grant.
 */
export async function undoChargeMove(tx: Tx, grantId: number, now: Date): Promise<void> {
  const [move] = await tx<{ id: number; subscriptionId: string; base: Date }[]>`
    select id, subscription_id, base from charge_moves
    where grant_id = ${grantId} and undone_at is null`;
  if (!move) return;
  const due = await chainDue(tx, move.subscriptionId, move.base);
  if (due <= now) return;
  await tx`update charge_moves set undone_at = ${now} where id = ${move.id}`;
  await enqueue(tx, {
    kind: SYNC_NEXT_CHARGE_JOB,
    key: `undo:${grantId}`,
    payload: { subscriptionId: move.subscriptionId },
  }, now);
}

/** The job for one grant: plan its move (once), then bring Stripe in line. */
export async function moveNextCharge(services: JobServices, job: Job): Promise<void> {
  const grantId = Number(job.payload.grantId);
  const userId = Number(job.payload.userId);
  const subscriptionId = String(job.payload.subscriptionId);
  if (!await isPlanned(services.db, grantId)) {
    if (await isReversed(services.db, grantId)) return;
    const stripe = requireStripe(services);
    const subscription = await stripe.subscriptions.retrieve(subscriptionId);
    if (!waitWhilePastDue(subscription, services.now())) return;
    const stripeNext = nextChargeOf(subscription);
    const planned = await withTransaction(services.db, async (tx) => {
      await lockPerson(tx, { userId });
      if (await isPlanned(tx, grantId) || await isReversed(tx, grantId)) return false;
      const now = services.now();
      const chain = await latestChain(tx, subscriptionId);
      // Join the chain while its date is ahead and Stripe has not charged past it; otherwise
      // start a new one from the next charge Stripe has now.
      const base = chain && chain.due > now && stripeNext <= chain.due ? chain.base : stripeNext;
      const [{ days }] = await tx<{ days: number }[]>`
        select days from credit_grants where id = ${grantId}`;
      await tx`
        insert into charge_moves (grant_id, user_id, subscription_id, days, base, planned_at)
        values (${grantId}, ${userId}, ${subscriptionId}, ${days}, ${base}, ${now})`;
      return true;
    });
    if (planned) {
      services.log.info("billing.charge_move_planned", {
        grant_id: grantId,
        user_id: userId,
        subscription_id: subscriptionId,
      });
    }
  }
  await syncNextCharge(services, subscriptionId);
}

/** The job after an undo: bring Stripe in line. */
export async function syncNextChargeJob(services: JobServices, job: Job): Promise<void> {
  await syncNextCharge(services, String(job.payload.subscriptionId));
}

/**
 * Set the subscription's next charge to where its moves put it, until what the moves say holds
 * still across a call (another grant or undo may land meanwhile; its own job does the same, so
 * whichever call is last sets the final date). Safe to repeat: it only ever sets that date.
 */
async function syncNextCharge(services: JobServices, subscriptionId: string): Promise<void> {
  const stripe = requireStripe(services);
  for (let round = 0; round < 5; round++) {
    const chain = await latestChain(services.db, subscriptionId);
    if (!chain) return;
    const subscription = await stripe.subscriptions.retrieve(subscriptionId);
    const now = services.now();
    if (!waitWhilePastDue(subscription, now)) return;
    const target = new Date(Math.min(chain.due.getTime(), now.getTime() + MAX_AHEAD_MS));
    await setNextCharge(stripe, subscription, chain, target, now);
    const after = await latestChain(services.db, subscriptionId);
    if (
      after?.due.getTime() === chain.due.getTime() && after.base.getTime() === chain.base.getTime()
    ) {
      services.log.info("billing.next_charge_synced", {
        subscription_id: subscriptionId,
        next_charge: target.toISOString(),
      });
      if (target < chain.due) {
        throw new RunLater(
          new Date(chain.due.getTime() - MAX_AHEAD_MS + DAY_MS),
          "Stripe takes a trial end at most two years ahead; the rest of the move waits",
        );
      }
      return;
    }
  }
  throw new Error(`the next charge of ${subscriptionId} kept changing while it was being set`);
}

async function setNextCharge(
  stripe: Stripe,
  subscription: Stripe.Subscription,
  chain: Chain,
  target: Date,
  now: Date,
): Promise<void> {
  const current = nextChargeOf(subscription);
  if (target > now) {
    if (seconds(current) === seconds(target)) return;
    await stripe.subscriptions.update(subscription.id, {
      trial_end: seconds(target),
      proration_behavior: "none",
    }, {
      idempotencyKey: `read-markets-next-charge-${subscription.id}-${chain.version}-${
        seconds(target)
      }`,
    });
    return;
  }
  // Undone moves put the charge in the past: it is owed now. Only a date our moves set is ended
  // early, never a trial of the person's own.
  if (subscription.status !== "trialing" || current <= now || !chain.anyUndone) return;
  await stripe.subscriptions.update(subscription.id, { trial_end: "now" }, {
    idempotencyKey: `read-markets-next-charge-${subscription.id}-${chain.version}-now`,
  });
}

/**
 * Whether the subscription's next charge can be moved now: not once it has ended (the credit
 * stands on its own), and not while a payment is failing — that waits, and is looked at again.
 */
function waitWhilePastDue(subscription: Stripe.Subscription, now: Date): boolean {
  if (subscription.status === "past_due") {
    throw new RunLater(
      new Date(now.getTime() + PAST_DUE_RECHECK_MS),
      "the subscription is past due: its next charge moves once it is paid",
    );
  }
  return subscription.status === "trialing" || subscription.status === "active";
}

/** When Stripe will next charge: the trial's end, or the current period's. */
function nextChargeOf(subscription: Stripe.Subscription): Date {
  const at = subscription.status === "trialing" && subscription.trial_end
    ? subscription.trial_end
    : subscription.items.data[0].current_period_end;
  return new Date(at * 1000);
}

interface Chain {
  base: Date;
  /**
   * Which state of the chain this is (moves planned, moves undone): it only grows, so an
   * idempotency key made from it names one change — a date set again after an undo and a
   * restore is a new request, not a replay of the first.
   */
  version: string;
  /** base plus the days of the moves not undone. */
  due: Date;
  /** Days those moves add. */
  days: number;
  anyUndone: boolean;
}

function chainRead(subscriptionId: string): Read<Chain | null> {
  return {
    query: (db) =>
      db`select to_json(c) from (
           select base,
                  coalesce(sum(days) filter (where undone_at is null), 0)::int as days,
                  count(*)::int as moves,
                  count(undone_at)::int as undone
           from charge_moves where subscription_id = ${subscriptionId}
           group by base order by base desc limit 1) c`,
    parse: (value) => {
      if (value === null) return null;
      const row = rowFromJson<{ base: Date; days: number; moves: number; undone: number }>(
        value,
        ["base"],
      );
      return {
        base: row.base,
        version: `${seconds(row.base)}-${row.moves}-${row.undone}`,
        due: new Date(row.base.getTime() + row.days * DAY_MS),
        days: row.days,
        anyUndone: row.undone > 0,
      };
    },
  };
}

async function latestChain(db: Queryable, subscriptionId: string): Promise<Chain | null> {
  return await readOne(db, chainRead(subscriptionId));
}

async function chainDue(db: Queryable, subscriptionId: string, base: Date): Promise<Date> {
  const [{ days }] = await db<{ days: number }[]>`
    select coalesce(sum(days) filter (where undone_at is null), 0)::int as days
    from charge_moves where subscription_id = ${subscriptionId} and base = ${base}`;
  return new Date(base.getTime() + days * DAY_MS);
}

/**
 * Where credit has put the subscription's next charge, while that is still ahead — for what
 * settings says. `days` may be 0 when every move was undone: Stripe still shows a "trial" to the
 * original date, which is the person's renewal, not a free trial.
 */
export function pendingChargeMoveRead(
  subscriptionId: string,
  now: Date,
): Read<{ due: Date; days: number } | null> {
  return mapRead(
    chainRead(subscriptionId),
    (chain) => !chain || chain.due <= now ? null : { due: chain.due, days: chain.days },
  );
}

/** Whether the subscription's charge at `at` is where credit moved it (rather than a trial's end). */
export async function isMovedCharge(
  db: Queryable,
  subscriptionId: string,
  at: Date,
): Promise<boolean> {
  const chain = await latestChain(db, subscriptionId);
  return chain !== null && chain.days > 0 && seconds(chain.due) === seconds(at);
}

async function isPlanned(db: Queryable, grantId: number): Promise<boolean> {
  const [row] = await db`select 1 from charge_moves where grant_id = ${grantId}`;
  return row !== undefined;
}

async function isReversed(db: Queryable, grantId: number): Promise<boolean> {
  const [row] = await db`select 1 from credit_grants where reverses_grant_id = ${grantId}`;
  return row !== undefined;
}

function seconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}
