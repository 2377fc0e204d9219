/**
 * Schema migrations: `migrations/NNNN_name.sql`, applied in order, each in its own transaction,
 * recorded in `schema_migrations` with a SHA-256 checksum.
 *
 * Every step takes a transaction-scoped advisory lock and re-reads the recorded state under it,
 * so several instances starting at once apply each migration exactly once, and a pool of one
 * connection (the embedded database) works as well as a large one.
 */
import type { Sql, Tx } from "./client.ts";
import { withTransaction } from "./client.ts";
import { sha256Hex } from "../crypto.ts";

export interface Migration {
  /** File name without `.sql`, e.g. `0001_accounts`: the key recorded in the database. */
  name: string;
  sequence: number;
  sql: string;
  checksum: string;
}

export interface MigrationStatus {
  applied: string[];
  pending: string[];
  /** Applied migrations whose file has changed since. */
  edited: string[];
  /** Recorded in the database but unknown to this code (a newer release ran). */
  unknown: string[];
}

export class MigrationError extends Error {
  override name = "MigrationError";
}

export const MIGRATIONS_DIR = new URL("../../migrations/", import.meta.url);

// Arbitrary but fixed: every instance of this app must agree on it.
const LOCK_KEY = 0x72656164; // "read"
const FILE_PATTERN = /^(\d{4})_[a-z0-9_]+\.sql$/;

export async function loadMigrations(dir: URL = MIGRATIONS_DIR): Promise<Migration[]> {
  const migrations: Migration[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.isFile || !entry.name.endsWith(".sql")) continue;
    const match = FILE_PATTERN.exec(entry.name);
    if (!match) {
      throw new MigrationError(
        `migration file "${entry.name}" must be named NNNN_lowercase_words.sql`,
      );
    }
    const sql = await Deno.readTextFile(new URL(entry.name, dir));
    migrations.push({
      name: entry.name.slice(0, -4),
      sequence: Number(match[1]),
      sql,
      checksum: await sha256Hex(sql),
    });
  }
  migrations.sort((a, b) => a.sequence - b.sequence);
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i].sequence === migrations[i - 1].sequence) {
      throw new MigrationError(
        `migrations ${migrations[i - 1].name} and ${migrations[i].name} share a sequence number`,
      );
    }
  }
  return migrations;
}

/** Apply every pending migration. Returns the names applied by this call. */
export async function migrate(sql: Sql, migrations: Migration[]): Promise<string[]> {
  const applied: string[] = [];
  for (const migration of migrations) {
    const ran = await withTransaction(sql, async (tx) => {
      await lockAndEnsureTable(tx);
      const [row] = await tx<{ checksum: string }[]>`
        select checksum from schema_migrations where name = ${migration.name}`;
      if (row) {
        assertUnchanged(migration, row.checksum);
        return false;
      }
      try {
        await tx.unsafe(migration.sql);
      } catch (error) {
        throw new MigrationError(
          `migration ${migration.name} failed and was rolled back: ${(error as Error).message}`,
          { cause: error },
        );
      }
      await tx`
        insert into schema_migrations (name, checksum) values (${migration.name}, ${migration.checksum})`;
      return true;
    });
    if (ran) applied.push(migration.name);
  }
  return applied;
}

/** Compare the database with the code without changing either. */
export async function migrationStatus(sql: Sql, migrations: Migration[]): Promise<MigrationStatus> {
  const [{ exists }] = await sql<{ exists: boolean }[]>`
    select to_regclass('schema_migrations') is not null as exists`;
  const recorded = exists
    ? await sql<{ name: string; checksum: string }[]>`select name, checksum from schema_migrations`
    : [];
  const byName = new Map(recorded.map((r) => [r.name, r.checksum]));
  const known = new Set(migrations.map((m) => m.name));
  return {
    applied: migrations.filter((m) => byName.has(m.name)).map((m) => m.name),
    pending: migrations.filter((m) => !byName.has(m.name)).map((m) => m.name),
    edited: migrations.filter((m) => byName.has(m.name) && byName.get(m.name) !== m.checksum)
      .map((m) => m.name),
    unknown: recorded.filter((r) => !known.has(r.name)).map((r) => r.name),
  };
}

async function lockAndEnsureTable(tx: Tx) {
  await tx`select pg_advisory_xact_lock(${LOCK_KEY})`;
  await tx`
    create table if not exists schema_migrations (
      name text primary key,
      checksum text not null,
      applied_at timestamptz not null default now()
    )`;
}

function assertUnchanged(migration: Migration, recordedChecksum: string) {
  if (recordedChecksum === migration.checksum) return;
  throw new MigrationError(
    `migration ${migration.name} was edited after it was applied ` +
      `(recorded checksum ${recordedChecksum.slice(0, 12)}…, file ${
        migration.checksum.slice(0, 12)
      }…); add a new migration instead of changing an applied one`,
  );
}
