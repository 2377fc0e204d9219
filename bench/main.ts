/**
 * `deno task bench`: measure the app against fixed references, a peer and what this machine can
 * do, on the PostgreSQL server in DATABASE_URL (fresh databases are made for the run and dropped
 * after it), and print one table and what was verified. Progress goes to stderr, the table to
 * stdout. Exits 1 when a check failed, after printing everything.
 */
import { FULL_SIZES, runBench } from "./suite.ts";
import { benchTable, checkLines, cpuTable } from "./report.ts";

if (!Deno.env.get("DATABASE_URL")) {
  console.error(
    "deno task bench needs DATABASE_URL, a PostgreSQL server it can create databases on, e.g.\n" +
      "  DATABASE_URL=postgres://postgres@127.0.0.1:5432/test deno task bench",
  );
  Deno.exit(1);
}

const started = performance.now();
const [loadBefore] = Deno.loadavg();
const results = await runBench(FULL_SIZES, {
  peer: true,
  progress: (step) => console.error(`bench: ${step}…`),
});
const seconds = (performance.now() - started) / 1000;
console.log(benchTable(results));
console.log(
  `\nratio: app ÷ reference for rates, reference ÷ app for times and memory (1.00 = as good as ` +
    `the reference); bytes ÷ aim for JavaScript.`,
);
console.log(`\n${cpuTable(results)}`);
console.log(
  `\nCPU: from /proc, per event or request, over the same timed runs, each side read from idle ` +
    `to idle; PostgreSQL is every postgres process; the bench process holds the load client ` +
    `(and wrk, its child) or the side that runs in it.`,
);
const memoryGiB = Math.round(Deno.systemMemoryInfo().total / 2 ** 30);
// The machine's load average says how much else was running: absolute figures follow it.
const [loadAfter] = Deno.loadavg();
console.log(
  `${navigator.hardwareConcurrency} cores, ${memoryGiB} GiB, Deno ${Deno.version.deno}; ` +
    `wall time ${seconds.toFixed(1)} s; load average ${loadBefore.toFixed(1)} before, ` +
    `${loadAfter.toFixed(1)} after`,
);
console.log(`\nchecks:\n${checkLines(results).join("\n")}`);
if (results.checks.some((check) => !check.ok)) Deno.exit(1);
