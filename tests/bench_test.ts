/**
 * `deno task bench` in miniature, so the benchmark keeps working as the app changes. It asserts
 * that every measurement ran and measured the right thing, never how fast anything was. The peer
 * (stripe-sync-engine, installed from npm) is left out: only the full bench installs it. Pages
 * are loaded with wrk where it is installed, else with the fetch client; the output says which.
 */
import assert from "node:assert/strict";
import { type BenchSizes, JS_PAGES, PAGE_PATHS, runBench } from "../bench/suite.ts";
import { benchTable, checkLines, cpuTable } from "../bench/report.ts";
import { scriptsOf } from "../bench/js_bytes.ts";
import { parseWrkOutput } from "../bench/wrk.ts";

const TINY: BenchSizes = {
  webhook: { users: 4, concurrency: 4, eventsPerRun: 8, rounds: 1 },
  hotRow: { concurrency: 4, eventsPerRun: 4, rounds: 1 },
  pages: {
    rounds: 1,
    warmUp: false,
    wrk: { threads: 1, connections: 2, seconds: 1 },
    fetch: { requests: 6, concurrency: 3 },
  },
  coldStart: { spawns: 1 },
};

Deno.test({
  name: "the benchmark runs every measurement end to end, in miniature",
  async fn() {
    const results = await runBench(TINY, { peer: false });
    const table = benchTable(results);
    const pageClient = results.pageClient.kind === "wrk"
      ? "pages loaded with wrk"
      : "pages loaded with the fetch client (wrk is not installed)";
    console.log(
      `${table}\nleft out of the miniature: stripe-sync-engine; ${pageClient}\n` +
        checkLines(results).join("\n"),
    );

    assert.deepEqual(checkLines(results).filter((line) => line.startsWith("FAILED")), []);
    const { webhook, hotRow } = results;
    for (const side of [webhook.app, webhook.reference!, webhook.ownSql]) {
      assert.equal(side.completed, TINY.webhook.eventsPerRun);
      assert.equal(side.failed, 0);
    }
    assert.equal(webhook.peer, null);
    assert.equal(results.peer.measured, false);
    assert.match(table, /stripe-sync-engine 0\.48\.5 not measured: left out of the miniature/);
    for (const side of [hotRow.app, hotRow.ownSql]) {
      assert.equal(side.completed, TINY.hotRow.eventsPerRun);
    }
    assert.equal(hotRow.reference, null);

    assert.deepEqual(results.pages.pages.map((page) => page.path), PAGE_PATHS);
    for (const page of results.pages.pages) {
      assert.ok(page.bodyBytes > 0);
      for (const side of [page.app, page.limit]) {
        assert.ok(side.completed > 0, `${page.path}: requests were answered`);
        assert.equal(side.failed, 0);
      }
    }
    if (Deno.build.os === "linux") {
      assert.ok(results.appResidentBytes.afterWebhooks! > 0);
      assert.ok(results.appResidentBytes.afterAll! > 0);
      assert.ok(results.pages.limitResidentBytes! > 0);
    }

    assert.equal(results.coldStart.appMs.length, 1);
    assert.equal(results.coldStart.limitMs.length, 1);

    assert.deepEqual(results.js.map((page) => page.path), JS_PAGES);
    const js = Object.fromEntries(results.js.map((page) => [page.path, page]));
    assert.deepEqual(js["/"].scripts, [], "the landing page ships no JavaScript");
    assert.equal(js["/"].gzippedBytes, 0);
    for (const path of ["/pricing", "/settings", "/referrals"]) {
      assert.ok(js[path].scripts.length > 1, `${path}: its module script and preloads`);
      assert.ok(js[path].gzippedBytes > 0);
    }

    const webhookRows = 3 + 1 + 3 + 3;
    const memoryRows = 2;
    assert.equal(
      table.split("\n").length,
      2 + webhookRows + PAGE_PATHS.length + 1 + memoryRows + JS_PAGES.length,
    );

    // Where the time went: every side of every row, read from /proc (Linux).
    const cpu = cpuTable(results);
    console.log(cpu);
    const cpuSides = 3 + 2 + 2 * PAGE_PATHS.length;
    assert.equal(cpu.split("\n").length, 2 + cpuSides);
    if (Deno.build.os === "linux") {
      assert.doesNotMatch(cpu, /not measured/);
      for (const side of [webhook.app, hotRow.app, ...results.pages.pages.map((p) => p.app)]) {
        assert.ok(side.cpu && side.cpu.server !== null, "the app's process was measured");
      }
      for (const side of [webhook.reference!, webhook.ownSql]) {
        assert.ok(side.cpu && side.cpu.server === null, "in-process sides have no server");
      }
      // The app's process did the serving: over a whole run it cannot have used no CPU at all.
      const served = [webhook.app, ...results.pages.pages.map((p) => p.app)];
      assert.ok(served.reduce((sum, side) => sum + side.cpu!.server!, 0) > 0);
    }
  },
});

Deno.test("wrk's report gives requests, time, and answers or sockets that failed", () => {
  const clean = "Running 2s test @ http://127.0.0.1:8000/\n  2 threads and 64 connections\n" +
    "  24000 requests in 2.00s, 100.00MB read\nRequests/sec:  12000.00\n";
  assert.deepEqual(parseWrkOutput(clean), {
    completed: 24000,
    failed: 0,
    firstFailure: null,
    seconds: 2,
  });
  const failing = "  1500 requests in 1.50s, 1.00MB read\n" +
    "  Socket errors: connect 0, read 2, write 0, timeout 1\n  Non-2xx or 3xx responses: 5\n";
  assert.deepEqual(parseWrkOutput(failing), {
    completed: 1495,
    failed: 8,
    firstFailure: "wrk: 5 answers not 2xx or 3xx; " +
      "Socket errors: connect 0, read 2, write 0, timeout 1",
    seconds: 1.5,
  });
});

Deno.test("the JavaScript count finds module scripts, preloads and inline scripts, once each", () => {
  const html = '<html><head><link rel="stylesheet" href="/s.css">' +
    '<link rel="modulepreload" href="/a.js"><link rel="modulepreload" href="/b.js"></head>' +
    '<body><script type="module" src="/boot.js"></script><script>go()</script>' +
    '<script type="module" src="/a.js"></script></body></html>';
  assert.deepEqual(scriptsOf(html), { urls: ["/boot.js", "/a.js", "/b.js"], inline: ["go()"] });
});
