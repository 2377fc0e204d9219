/**
 * `deno task migrate`: apply pending migrations to the configured database (the release step in
 * production). `deno task migrate --check` changes nothing and exits 1 when the database is not
 * current.
 */
import { loadConfigOrExit } from "../lib/config.ts";
import { openDatabase } from "../lib/db/open.ts";
import { loadMigrations, migrate, migrationStatus } from "../lib/db/migrate.ts";

const config = loadConfigOrExit();
const checkOnly = Deno.args.includes("--check");
let exitCode = 0;
try {
  const database = await openDatabase(config);
  try {
    const migrations = await loadMigrations();
    if (checkOnly) {
      const status = await migrationStatus(database.db, migrations);
      console.log(`${database.description}: ${status.applied.length} applied`);
      for (const name of status.pending) console.log(`pending: ${name}`);
      for (const name of status.edited) console.log(`edited after being applied: ${name}`);
      for (const name of status.unknown) console.log(`applied but unknown to this code: ${name}`);
      if (status.pending.length || status.edited.length) exitCode = 1;
    } else {
      const applied = await migrate(database.db, migrations);
      console.log(
        applied.length
          ? `applied ${applied.join(", ")} to ${database.description}`
          : `${database.description} is up to date`,
      );
    }
  } finally {
    await database.close();
  }
} catch (error) {
  console.error(`migrate failed: ${(error as Error).message}`);
  exitCode = 1;
}
Deno.exit(exitCode);
