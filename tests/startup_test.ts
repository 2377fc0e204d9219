import assert from "node:assert/strict";
import { runDeno } from "./helpers/bounded.ts";

function runMain(env: Record<string, string>) {
  return runDeno(["run", "-A", "main.ts"], { env: { PORT: "0", ...env } });
}

Deno.test("an unreachable DATABASE_URL stops start-up with a message naming the database", async () => {
  const result = await runMain({ DATABASE_URL: "postgres://nobody@127.0.0.1:1/x" });
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    /start-up failed: cannot connect to the database at 127\.0\.0\.1:1\/x: connection refused/,
  );
  const logged = result.stdout.trim().split("\n").map((line) => JSON.parse(line));
  assert.equal(logged.at(-1).event, "app.start_failed");
});
