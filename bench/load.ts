import { addCpu, type CpuSpent } from "./cpu.ts";

/**
 * Closed-loop load: `concurrency` loops each take the next job and wait for it before taking
 * another, so throughput and latency are measured the same way for every row of the table. A job
 * that fails is counted, not retried, and the load goes on: the table reports failures beside the
 * figures instead of stopping at the first.
 */

/** How many jobs succeeded and failed, and in how long. */
export interface Throughput {
  /** Jobs that succeeded. */
  completed: number;
  failed: number;
  /** What went wrong with the first job that failed. */
  firstFailure: string | null;
  seconds: number;
  /** What the run cost in CPU, where it was measured (see `cpu.ts`). */
  cpu?: CpuSpent | null;
}

export interface LoadResult extends Throughput {
  /** Latency of each job that succeeded, in milliseconds, in completion order. */
  latenciesMs: number[];
}

export async function runLoad<T>(
  jobs: readonly T[],
  concurrency: number,
  run: (job: T) => Promise<void>,
): Promise<LoadResult> {
  const latenciesMs: number[] = [];
  let failed = 0;
  let firstFailure: string | null = null;
  let next = 0;
  const loop = async () => {
    while (next < jobs.length) {
      const job = jobs[next++];
      const started = performance.now();
      try {
        await run(job);
        latenciesMs.push(performance.now() - started);
      } catch (error) {
        failed += 1;
        firstFailure ??= error instanceof Error ? error.message : String(error);
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, jobs.length) }, loop));
  return {
    completed: latenciesMs.length,
    failed,
    firstFailure,
    seconds: (performance.now() - started) / 1000,
    latenciesMs,
  };
}

export function perSecond(result: Throughput): number {
  return result.completed / result.seconds;
}

/** The latency below which `fraction` of the jobs finished (nearest rank). */
export function percentile(result: LoadResult, fraction: number): number {
  const sorted = [...result.latenciesMs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] ?? NaN;
}

/** Several runs of one side as one: all their jobs over all their time. */
export function combine(runs: LoadResult[]): LoadResult {
  return {
    ...combineThroughput(runs),
    latenciesMs: runs.flatMap((run) => run.latenciesMs),
  };
}

export function combineThroughput(runs: Throughput[]): Throughput {
  return {
    completed: runs.reduce((sum, run) => sum + run.completed, 0),
    failed: runs.reduce((sum, run) => sum + run.failed, 0),
    firstFailure: runs.find((run) => run.firstFailure)?.firstFailure ?? null,
    seconds: runs.reduce((sum, run) => sum + run.seconds, 0),
    cpu: addCpu(runs.map((run) => run.cpu ?? null)),
  };
}
