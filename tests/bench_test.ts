/**
 * `deno task bench` in miniature, so the benchmark keeps working as the app changes. It asserts
 * that every measurement ran and measured the right thing, never how fast anything was.
 */
import assert from "node:assert/strict";
import { type BenchSizes, JS_PAGES, runBench } from "../bench/suite.ts";
import { benchTable } from "../bench/report.ts";
import { scriptsOf } from "../bench/js_bytes.ts";

const TINY: BenchSizes = {
  webhook: { users: 4, concurrency: 4, eventsPerRun: 8, rounds: 1 },
  hotRow: { concurrency: 4, eventsPerRun: 4, rounds: 1 },
  pages: { requests: 6, concurrency: 3, rounds: 1 },
  coldStart: { spawns: 1 },
};

Deno.test({
  name: "the benchmark runs every measurement end to end, in miniature",
  async fn() {
    const results = await runBench(TINY);

    const webhooks = [[results.webhook, TINY.webhook], [results.hotRow, TINY.hotRow]] as const;
    for (const [webhook, sizes] of webhooks) {
      assert.equal(webhook.app.completed, sizes.eventsPerRun);
      assert.equal(webhook.limit.completed, sizes.eventsPerRun);
      assert.equal(webhook.sent, 2 * sizes.eventsPerRun);
      assert.equal(webhook.processed, webhook.sent, "every event sent either way was processed");
    }

    assert.deepEqual(results.pages.map((page) => page.path), ["/pricing", "/settings"]);
    for (const page of results.pages) {
      assert.ok(page.sameBytes, `${page.path}: the bare server serves the app's bytes`);
      assert.ok(page.bodyBytes > 0);
      assert.equal(page.app.completed, TINY.pages.requests);
      assert.equal(page.limit.completed, TINY.pages.requests);
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

    const table = benchTable(results);
    assert.equal(table.split("\n").length, 2 + 6 + 2 + 1 + JS_PAGES.length);
  },
});

Deno.test("the JavaScript count finds module scripts, preloads and inline scripts, once each", () => {
  const html = '<html><head><link rel="stylesheet" href="/s.css">' +
    '<link rel="modulepreload" href="/a.js"><link rel="modulepreload" href="/b.js"></head>' +
    '<body><script type="module" src="/boot.js"></script><script>go()</script>' +
    '<script type="module" src="/a.js"></script></body></html>';
  assert.deepEqual(scriptsOf(html), { urls: ["/boot.js", "/a.js", "/b.js"], inline: ["go()"] });
});
