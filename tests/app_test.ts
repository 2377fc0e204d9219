import assert from "node:assert/strict";
import { unreachableDatabase } from "./helpers/db.ts";
import { createTestApp } from "./helpers/app.ts";

Deno.test("site pages over HTTP", async (t) => {
  const app = await createTestApp();
  try {
    await t.step("the landing page is HTML without a single script", async () => {
      const response = await app.fetch("/");
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("content-type"), "text/html; charset=utf-8");
      const html = await response.text();
      assert.ok(html.startsWith("<!DOCTYPE html>"));
      assert.ok(!html.includes("<script"), "no JavaScript on a page without islands");
      assert.ok(!html.includes("modulepreload"));
    });

    await t.step("a page with an island ships exactly one module script", async () => {
      const html = await (await app.fetch("/referrals")).text();
      const scripts = html.match(/<script[^>]*>/g) ?? [];
      assert.equal(scripts.length, 1);
      assert.match(scripts[0], /^<script type="module" src="\/_build\/islands\/boot-\w+\.js">$/);
      const bundle = await app.fetch(scripts[0].match(/src="([^"]+)"/)![1]);
      assert.equal(bundle.status, 200);
      assert.equal(bundle.headers.get("cache-control"), "public, max-age=31536000, immutable");
      assert.match(bundle.headers.get("content-type")!, /^text\/javascript/);
    });

    await t.step("static files revalidate with ETags; hashed links are immutable", async () => {
      const html = await (await app.fetch("/")).text();
      const href = html.match(/href="(\/styles\.css\?v=\w+)"/)![1];
      const hashed = await app.fetch(href);
      assert.equal(hashed.headers.get("cache-control"), "public, max-age=31536000, immutable");
      assert.match(hashed.headers.get("content-type")!, /^text\/css/);
      const plain = await app.fetch("/styles.css");
      assert.equal(plain.headers.get("cache-control"), "public, no-cache");
      const etag = plain.headers.get("etag")!;
      await plain.body?.cancel();
      const revalidated = await app.fetch("/styles.css", { headers: { "if-none-match": etag } });
      assert.equal(revalidated.status, 304);
      assert.equal((await app.fetch("/_build/islands/nope.js")).status, 404);
    });

    await t.step("unknown pages get the HTML error page, unknown API routes JSON", async () => {
      const page = await app.fetch("/nope");
      assert.equal(page.status, 404);
      assert.match(await page.text(), /We couldn&#39;t find that page|We couldn't find that page/);
      const api = await app.fetch("/api/nope");
      assert.equal(api.status, 404);
      assert.deepEqual(await api.json(), { error: "not_found", message: "Page not found" });
    });

    await t.step("every response has a request id and security headers", async () => {
      for (const path of ["/", "/nope", "/styles.css", "/healthz"]) {
        const response = await app.fetch(path);
        await response.body?.cancel();
        assert.match(response.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/, path);
        assert.equal(response.headers.get("x-content-type-options"), "nosniff", path);
        assert.equal(response.headers.get("x-frame-options"), "DENY", path);
        assert.match(response.headers.get("content-security-policy")!, /script-src 'self'/, path);
      }
    });

    await t.step("each request is logged once, static files not at all", async () => {
      app.logs.lines.length = 0;
      await (await app.fetch("/?utm=x")).body?.cancel();
      await (await app.fetch("/styles.css")).body?.cancel();
      const logged = app.logs.records("http.request");
      assert.equal(logged.length, 1);
      assert.equal(logged[0].method, "GET");
      assert.equal(logged[0].path, "/");
      assert.equal(logged[0].status, 200);
      assert.equal(typeof logged[0].duration_ms, "number");
      assert.match(String(logged[0].request_id), /^[0-9a-f-]{36}$/);
    });

    await t.step("/healthz reports a reachable, migrated database", async () => {
      const response = await app.fetch("/healthz");
      assert.equal(response.status, 200);
      const body = await response.json();
      assert.equal(body.status, "ok");
      assert.equal(body.database, "ok");
      assert.deepEqual(body.migrations.pending, []);
    });
  } finally {
    await app.close();
  }
});

Deno.test("/healthz answers 503 when the database is down", async () => {
  const db = unreachableDatabase();
  const app = await createTestApp({ db });
  try {
    const response = await app.fetch("/healthz");
    assert.equal(response.status, 503);
    assert.deepEqual(await response.json(), { status: "unavailable", database: "unreachable" });
  } finally {
    await app.close();
    await db.close();
  }
});
