import assert from "node:assert/strict";

async function runMain(env: Record<string, string>) {
  const started = performance.now();
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts"],
    env: { PORT: "0", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: output.code,
    stderr: new TextDecoder().decode(output.stderr),
    stdout: new TextDecoder().decode(output.stdout),
    seconds: (performance.now() - started) / 1000,
  };
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
