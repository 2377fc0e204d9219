import assert from "node:assert/strict";
import { connect } from "../../lib/db/client.ts";
import { startEmbeddedPostgres } from "../../lib/db/embedded.ts";

Deno.test("the embedded database keeps its data across a restart", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "embedded-pg-" });
  try {
    const first = await startEmbeddedPostgres(dataDir);
    const sql = connect(first.url, { max: 1 });
    await sql`create table notes (body text)`;
    await sql`insert into notes values ('kept')`;
    await sql.end();
    await first.stop();

    const second = await startEmbeddedPostgres(dataDir);
    const again = connect(second.url, { max: 1 });
    const rows = await again`select body from notes`;
    await again.end();
    await second.stop();
    assert.deepEqual(rows.map((r) => r.body), ["kept"]);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
