/**
 * What the bench verified about its own runs — every event processed, every request answered as
 * expected — printed under the table. A failed check does not hide a row: the figures are printed
 * and the check says what went wrong.
 */
import { formatNumber } from "./table.ts";
import type { Throughput } from "./load.ts";

export interface Check {
  ok: boolean;
  text: string;
}

/** `done` of `expected`, as a check named `what`. */
export function countCheck(what: string, done: number, expected: number, noun: string): Check {
  return {
    ok: done === expected,
    text: `${what}: ${formatNumber(done)} of ${formatNumber(expected)} ${noun}`,
  };
}

/** No request or job of these runs failed. */
export function noFailures(what: string, runs: Throughput[]): Check {
  const failed = runs.reduce((sum, run) => sum + run.failed, 0);
  const total = runs.reduce((sum, run) => sum + run.completed + run.failed, 0);
  const first = runs.find((run) => run.firstFailure)?.firstFailure;
  return {
    ok: failed === 0,
    text: `${what}: ${formatNumber(failed)} of ${formatNumber(total)} failed` +
      (first ? ` (first: ${first})` : ""),
  };
}
