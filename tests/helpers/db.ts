/**
 * A fresh, migrated database for each test file (or test) that asks for one: a new database on
 * the real server when `DATABASE_URL` is set (as in CI), otherwise a clone of an in-memory
 * embedded PostgreSQL. Never a mock.
 */
import { PGlite } from "@electric-sql/pglite";
import { connect, type Sql } from "../../lib/db/client.ts";
import { loadMigrations, migrate } from "../../lib/db/migrate.ts";
import { EMBEDDED_POOL_SIZE, serveEmbedded } from "../../lib/db/embedded.ts";

export interface TestDatabase {
  url: string;
  sql: Sql;
  close(): Promise<void>;
}

const SERVER_URL = Deno.env.get("DATABASE_URL") || null;
const PREFIX = "rm_test_";
// Databases left behind by a run that crashed are dropped by a later run after this long.
const STALE_AFTER_SECONDS = 6 * 3600;

export async function createTestDatabase(
  options: { migrate?: boolean; poolSize?: number } = {},
): Promise<TestDatabase> {
  const database = SERVER_URL
    ? await createOnServer(SERVER_URL, options.poolSize ?? 10)
    : await createEmbedded();
  if (options.migrate !== false) await migrate(database.sql, await loadMigrations());
  return database;
}

let cleanedUp = false;

async function createOnServer(serverUrl: string, poolSize: number): Promise<TestDatabase> {
  const now = Math.floor(Date.now() / 1000);
  const name = `${PREFIX}${now}_${crypto.randomUUID().slice(0, 8)}`;
  await withAdmin(serverUrl, async (admin) => {
    if (!cleanedUp) {
      cleanedUp = true;
      const leftovers = await admin<{ datname: string }[]>`
        select datname from pg_database where datname like ${PREFIX + "%"}`;
      for (const { datname } of leftovers) {
        const created = Number(datname.slice(PREFIX.length).split("_")[0]);
        if (now - created > STALE_AFTER_SECONDS) {
          await admin.unsafe(`drop database if exists "${datname}" with (force)`);
        }
      }
    }
    await admin.unsafe(`create database "${name}"`);
  });
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const sql = connect(url.toString(), { max: poolSize });
  return {
    url: url.toString(),
    sql,
    async close() {
      await sql.end({ timeout: 5 });
      await withAdmin(
        serverUrl,
        (admin) => admin.unsafe(`drop database if exists "${name}" with (force)`),
      );
    },
  };
}

async function withAdmin<T>(serverUrl: string, fn: (admin: Sql) => Promise<T>): Promise<T> {
  const admin = connect(serverUrl, { max: 1 });
  try {
    return await fn(admin);
  } finally {
    await admin.end({ timeout: 5 });
  }
}

/*
 * A new PGlite runs initdb, which costs seconds; one started from a saved copy of a new data
 * directory costs about one; emptying one that a finished test has let go costs milliseconds. So
 * the first new one of a run saves its data directory under `.data/` (once per PGlite version),
 * later ones start from that copy, and a closed database is emptied (its schema dropped and made
 * again) and handed to the next test of the file.
 */
const free: PGlite[] = [];

async function createEmbedded(): Promise<TestDatabase> {
  const pglite = free.pop() ?? await newPGlite();
  const served = serveEmbedded(pglite);
  const sql = connect(served.url, { max: EMBEDDED_POOL_SIZE });
  return {
    url: served.url,
    sql,
    async close() {
      await sql.end({ timeout: 5 });
      await served.close();
      await pglite.exec("drop schema public cascade; create schema public");
      free.push(pglite);
    },
  };
}

async function newPGlite(): Promise<PGlite> {
  const saved = await savedDataDir();
  if (saved) return await PGlite.create({ loadDataDir: saved });
  const pglite = await PGlite.create();
  await saveDataDir(await pglite.dumpDataDir("none"));
  return pglite;
}

const ROOT = new URL("../../", import.meta.url);

/** Where a new data directory of the PGlite version this project pins is kept. */
async function dataDirCopy(): Promise<URL> {
  const imports = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT))).imports;
  const version = String(imports["@electric-sql/pglite"]).replace(/[^\w.@-]+/g, "_");
  return new URL(`.data/test-template-${version}.tar`, ROOT);
}

async function savedDataDir(): Promise<Blob | null> {
  try {
    return new Blob([await Deno.readFile(await dataDirCopy())]);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

/** Written aside and renamed, so a reader never sees half a copy. */
async function saveDataDir(dump: Blob): Promise<void> {
  const target = await dataDirCopy();
  await Deno.mkdir(new URL(".", target), { recursive: true });
  const partial = `${target.pathname}.${crypto.randomUUID()}`;
  await Deno.writeFile(partial, new Uint8Array(await dump.arrayBuffer()));
  await Deno.rename(partial, target);
}

/** A database nobody answers for: every query fails as if the server were down. */
export function unreachableDatabase(): TestDatabase {
  const sql = connect("postgres://nobody@127.0.0.1:1/none", { max: 1, connectTimeout: 2 });
  return { url: "postgres://nobody@127.0.0.1:1/none", sql, close: () => sql.end() };
}
