/**
 * `deno task test`: `deno test` over `tests/` (or the paths given), passed through as it prints,
 * then one line that says what ran — passed, failed, skipped — and, when tests were skipped for
 * want of something (a PostgreSQL server, PgBouncer), how to include them.
 *
 * Every test bounds its own waits; as a last resort, a run that prints nothing for
 * `STALL_MINUTES` is stopped and reported as failed, naming what it was doing.
 */
import { REQUIREMENTS } from "../tests/helpers/needs.ts";

const STALL_MINUTES = 5;

const child = new Deno.Command(Deno.execPath(), {
  args: ["test", "-A", ...(Deno.args.length ? Deno.args : ["tests/"])],
  stdout: "piped",
  stderr: "inherit",
}).spawn();

const lines: string[] = [];
let stalled = false;
let watchdog = setTimeout(stop, STALL_MINUTES * 60_000);
let partial = "";
const decoder = new TextDecoder();
for await (const chunk of child.stdout) {
  await Deno.stdout.write(chunk);
  clearTimeout(watchdog);
  watchdog = setTimeout(stop, STALL_MINUTES * 60_000);
  const text = partial + decoder.decode(chunk, { stream: true });
  const complete = text.split("\n");
  partial = complete.pop()!;
  lines.push(...complete.map(withoutColour));
}
clearTimeout(watchdog);
const { code } = await child.status;

const summary = lines.findLast((line) => /^(ok|FAILED) \| /.test(line)) ?? "";
const count = (pattern: string) => Number(new RegExp(pattern).exec(summary)?.[1] ?? 0);
const failed = count("(\\d+) failed") + (stalled || (code !== 0 && !summary) ? 1 : 0);
const skipped = { tests: count("(\\d+) ignored"), steps: count("ignored \\((\\d+) step") };
const steps = (n: number) => n ? ` (and ${n} step${n === 1 ? "" : "s"})` : "";

console.log(
  `\ntests: ${count("(\\d+) passed")} passed, ${failed} failed, ${skipped.tests} skipped` +
    steps(skipped.steps),
);
for (const { what, howToInclude } of Object.values(REQUIREMENTS)) {
  const wanting = lines.filter((line) =>
    line.includes(`[needs ${what}:`) && / \.\.\. ignored/.test(line)
  );
  if (wanting.length === 0) continue;
  const stepsWanting = wanting.filter((line) => /^\s/.test(line)).length;
  console.log(
    `skipped for want of ${what}: ${wanting.length - stepsWanting} tests${steps(stepsWanting)}; ` +
      `${howToInclude} and run the tests again to include them`,
  );
}
Deno.exit(stalled ? 1 : code);

function stop() {
  stalled = true;
  const last = lines.findLast((line) => line.trim() !== "") ?? "(nothing yet)";
  console.error(
    `\ntest run stopped: nothing was printed for ${STALL_MINUTES} minutes; last line: ${last}`,
  );
  child.kill("SIGKILL");
}

function withoutColour(line: string): string {
  // deno-lint-ignore no-control-regex
  return line.replace(/\x1b\[[0-9;]*m/g, "");
}
