/**
 * Closed-loop load: `concurrency` loops each take the next job and wait for it before taking
 * another, so throughput and latency are measured the same way for every row of the table.
 */

export interface LoadResult {
  completed: number;
  seconds: number;
  /** Per-job latency in milliseconds, in completion order. */
  latenciesMs: number[];
}

export async function runLoad<T>(
  jobs: readonly T[],
  concurrency: number,
  run: (job: T) => Promise<void>,
): Promise<LoadResult> {
  const latenciesMs: number[] = [];
  let next = 0;
  const loop = async () => {
    while (next < jobs.length) {
      const job = jobs[next++];
      const started = performance.now();
      await run(job);
      latenciesMs.push(performance.now() - started);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, jobs.length) }, loop));
  return {
    completed: latenciesMs.length,
    seconds: (performance.now() - started) / 1000,
    latenciesMs,
  };
}

export function perSecond(result: LoadResult): number {
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
    completed: runs.reduce((sum, run) => sum + run.completed, 0),
    seconds: runs.reduce((sum, run) => sum + run.seconds, 0),
    latenciesMs: runs.flatMap((run) => run.latenciesMs),
  };
}
