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
