import assert from "node:assert/strict";
import { createLogger, REDACTED } from "../lib/log.ts";

function capture(level?: "debug" | "info" | "warn" | "error") {
  const lines: string[] = [];
  const log = createLogger({
    level,
    sink: (line) => lines.push(line),
    now: () => new Date("2026-01-02T03:04:05.000Z"),
  });
  return { log, lines, parsed: () => lines.map((l) => JSON.parse(l)) };
}

Deno.test("each line is one JSON object: time, level, event, then fields", () => {
  const { log, lines } = capture();
  log.info("stripe.processed", { type: "invoice.paid", id: "evt_1" });
  assert.deepEqual(lines, [
    '{"time":"2026-01-02T03:04:05.000Z","level":"info","event":"stripe.processed","type":"invoice.paid","id":"evt_1"}',
  ]);
});

Deno.test("secret-looking fields are redacted, errors keep name and message", () => {
  const { log, parsed } = capture();
  log.error("x", {
    token: "t",
    session_token: "s",
    Authorization: "Bearer x",
    stripe_api_key: "sk",
    error: new TypeError("bad"),
  });
  const [line] = parsed();
  assert.equal(line.token, REDACTED);
  assert.equal(line.session_token, REDACTED);
  assert.equal(line.Authorization, REDACTED);
  assert.equal(line.stripe_api_key, REDACTED);
  assert.equal(line.error.name, "TypeError");
  assert.equal(line.error.message, "bad");
});

Deno.test("levels below the minimum are dropped; child loggers add their fields", () => {
  const { log, parsed } = capture("warn");
  log.info("quiet");
  const child = log.child({ request_id: "r1" });
  child.warn("loud", { n: 1 });
  assert.deepEqual(parsed().map((l) => [l.event, l.request_id, l.n]), [["loud", "r1", 1]]);
});

Deno.test("fields cannot overwrite time, level or event", () => {
  const { log, parsed } = capture();
  log.info("real", { event: "fake", level: "error", time: "never" });
  const [line] = parsed();
  assert.equal(line.event, "real");
  assert.equal(line.level, "info");
  assert.equal(line.time, "2026-01-02T03:04:05.000Z");
});

Deno.test("stdout gets every line, in order, even when the process exits or crashes at once", async () => {
  const logModule = new URL("../lib/log.ts", import.meta.url).href;
  const run = async (ending: string) => {
    const script = `
      import { createLogger } from "${logModule}";
      const log = createLogger();
      for (let i = 1; i <= 3; i++) log.info("line", { i });
      ${ending}`;
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--no-config", script],
      stdout: "piped",
      stderr: "null",
    }).output();
    return new TextDecoder().decode(output.stdout).trim().split("\n").map((l) => JSON.parse(l).i);
  };
  assert.deepEqual(await run(""), [1, 2, 3]);
  assert.deepEqual(await run("Deno.exit(0);"), [1, 2, 3]);
  assert.deepEqual(await run("setTimeout(() => { throw new Error('crash'); }, 0);"), [1, 2, 3]);
});
