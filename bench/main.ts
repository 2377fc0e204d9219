/**
 * `deno task bench`: measure the app against what this machine can do, on the PostgreSQL server
 * in DATABASE_URL (a fresh database is made for the run and dropped after it), and print one
 * table. Progress goes to stderr, the table to stdout.
 */
import { FULL_SIZES, runBench } from "./suite.ts";
import { benchTable } from "./report.ts";

if (!Deno.env.get("DATABASE_URL")) {
  console.error(
    "deno task bench needs DATABASE_URL, a PostgreSQL server it can create a database on, e.g.\n" +
      "  DATABASE_URL=postgres://postgres@127.0.0.1:5432/test deno task bench",
  );
  Deno.exit(1);
}

const started = performance.now();
const results = await runBench(FULL_SIZES, (step) => console.error(`bench: ${step}…`));
const seconds = (performance.now() - started) / 1000;
console.log(benchTable(results));
console.log(
  `\nratio: app ÷ limit for rates, limit ÷ app for times (1.00 = as good as the limit); ` +
    `bytes ÷ aim for JavaScript.`,
);
const memoryGiB = Math.round(Deno.systemMemoryInfo().total / 2 ** 30);
console.log(
  `${navigator.hardwareConcurrency} cores, ${memoryGiB} GiB; wall time ${seconds.toFixed(1)} s`,
);
