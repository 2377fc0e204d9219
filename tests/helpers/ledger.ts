/** Assertions that `credit_until` is exactly what the `credit_grants` ledger explains. */
import assert from "node:assert/strict";
import type { Sql } from "../../lib/db/client.ts";
import { creditUntilFromLedger } from "../../lib/referrals/credits.ts";

export async function assertLedgerExplainsCredit(db: Sql): Promise<void> {
  const users = await db<
    { id: number; creditUntil: Date | null }[]
  >`select id, credit_until from users`;
  for (const user of users) {
    const fromLedger = await creditUntilFromLedger(db, user.id);
    assert.equal(
      fromLedger?.toISOString() ?? null,
      user.creditUntil?.toISOString() ?? null,
      `user ${user.id}: credit_until does not match the ledger`,
    );
  }
}
