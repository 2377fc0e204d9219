import assert from "node:assert/strict";
import { loadMigrations, migrate, MigrationError, migrationStatus } from "../../lib/db/migrate.ts";
import { connect } from "../../lib/db/client.ts";
import { createTestDatabase } from "../helpers/db.ts";

async function migrationsDir(files: Record<string, string>): Promise<URL> {
  const dir = await Deno.makeTempDir({ prefix: "migrations-" });
  for (const [name, sql] of Object.entries(files)) await Deno.writeTextFile(`${dir}/${name}`, sql);
  return new URL(`file://${dir}/`);
}

const BASE = {
  "0001_books.sql": "create table books (id serial primary key, title text not null);",
  "0002_authors.sql":
    "create table authors (id serial primary key); alter table books add column author_id int;",
};

Deno.test("migrations apply in order, once, each recorded with a checksum", async () => {
  const db = await createTestDatabase({ migrate: false });
  try {
    // Numeric order, not the order the directory lists them in.
    const dir = await migrationsDir({
      ...BASE,
      "0010_reviews.sql": "create table reviews (id int);",
    });
    const migrations = await loadMigrations(dir);
    assert.deepEqual(migrations.map((m) => m.name), ["0001_books", "0002_authors", "0010_reviews"]);

    assert.deepEqual(await migrate(db.sql, migrations), [
      "0001_books",
      "0002_authors",
      "0010_reviews",
    ]);
    assert.deepEqual(await migrate(db.sql, migrations), [], "a second run applies nothing");

    const rows = await db.sql`select name, checksum from schema_migrations order by name`;
    assert.deepEqual(rows.map((r) => r.name), ["0001_books", "0002_authors", "0010_reviews"]);
    assert.deepEqual(rows.map((r) => r.checksum), migrations.map((m) => m.checksum));
    assert.match(rows[0].checksum, /^[0-9a-f]{64}$/);
    const status = await migrationStatus(db.sql, migrations);
    assert.deepEqual(status.pending, []);
    assert.deepEqual(status.edited, []);
  } finally {
    await db.close();
  }
});

Deno.test("an applied migration that was edited is an error naming it", async () => {
  const db = await createTestDatabase({ migrate: false });
  try {
    await migrate(db.sql, await loadMigrations(await migrationsDir(BASE)));
    const edited = await loadMigrations(
      await migrationsDir({
        ...BASE,
        "0001_books.sql": "create table books (id bigserial primary key, title text not null);",
        "0003_tags.sql": "create table tags (id int);",
      }),
    );
    await assert.rejects(
      () => migrate(db.sql, edited),
      (error: Error) =>
        error instanceof MigrationError &&
        error.message.includes("migration 0001_books was edited after it was applied"),
    );
    const status = await migrationStatus(db.sql, edited);
    assert.deepEqual(status.edited, ["0001_books"]);
    assert.deepEqual(status.pending, ["0003_tags"], "nothing after the edited one was applied");
  } finally {
    await db.close();
  }
});

Deno.test("a failing migration leaves nothing behind and stops the run", async () => {
  const db = await createTestDatabase({ migrate: false });
  try {
    const migrations = await loadMigrations(
      await migrationsDir({
        "0001_books.sql": BASE["0001_books.sql"],
        "0002_broken.sql": "create table half (id int); select * from no_such_table;",
        "0003_after.sql": "create table after_broken (id int);",
      }),
    );
    await assert.rejects(() => migrate(db.sql, migrations), /migration 0002_broken failed/);
    const [{ half, after }] = await db.sql`
      select to_regclass('half') as half, to_regclass('after_broken') as after`;
    assert.equal(half, null, "the broken migration's first statement was rolled back");
    assert.equal(after, null);
    const status = await migrationStatus(db.sql, migrations);
    assert.deepEqual(status.applied, ["0001_books"]);
    assert.deepEqual(status.pending, ["0002_broken", "0003_after"]);
  } finally {
    await db.close();
  }
});

Deno.test("concurrent starts apply each migration exactly once", async () => {
  const db = await createTestDatabase({ migrate: false });
  const pools = Array.from({ length: 4 }, () => connect(db.url, { max: 1 }));
  try {
    // Not idempotent on purpose: a second application would fail.
    const migrations = await loadMigrations(
      await migrationsDir({
        "0001_counter.sql": "create table counter (n int); insert into counter values (1);",
        "0002_bump.sql": "update counter set n = n + 1;",
      }),
    );
    const results = await Promise.all(pools.map((pool) => migrate(pool, migrations)));
    assert.deepEqual(results.flat().sort(), ["0001_counter", "0002_bump"]);
    const [{ n }] = await db.sql`select n from counter`;
    assert.equal(n, 2);
  } finally {
    await Promise.all(pools.map((pool) => pool.end()));
    await db.close();
  }
});

Deno.test("status reports migrations the code does not know, and badly named files fail", async () => {
  const db = await createTestDatabase({ migrate: false });
  try {
    await migrate(db.sql, await loadMigrations(await migrationsDir(BASE)));
    const older = await loadMigrations(
      await migrationsDir({ "0001_books.sql": BASE["0001_books.sql"] }),
    );
    assert.deepEqual((await migrationStatus(db.sql, older)).unknown, ["0002_authors"]);
  } finally {
    await db.close();
  }
  await assert.rejects(
    async () => await loadMigrations(await migrationsDir({ "books.sql": "select 1" })),
    /must be named NNNN_lowercase_words\.sql/,
  );
  await assert.rejects(
    async () => await loadMigrations(await migrationsDir({ "0001_a.sql": "", "0001_b.sql": "" })),
    /share a sequence number/,
  );
});
