/** `deno task admin <command>`: operator commands against the configured database. */
import { loadConfigOrExit } from "../lib/config.ts";
import { createLogger } from "../lib/log.ts";
import { openDatabase } from "../lib/db/open.ts";
import { createStripeClient } from "../lib/stripe/client.ts";
import { runAdminCommand } from "../lib/admin/commands.ts";
import { createMailer } from "../lib/email/mailer.ts";
import { createJobRunner } from "../lib/jobs/runner.ts";
import { JOB_HANDLERS } from "../lib/jobs/handlers.ts";

const config = loadConfigOrExit();
const { apiKey, apiBase } = config.stripe;
// Operator output goes to stdout; the app's JSON log lines go to stderr, out of the way.
const log = createLogger({ level: "warn", sink: (line) => console.error(line) });
let code = 1;
try {
  const database = await openDatabase(config);
  try {
    const services = {
      config,
      db: database.db,
      log,
      now: () => new Date(),
      mailer: createMailer(config, log),
      // The simulator lives inside the app's process; operators reach real Stripe only.
      stripe: apiKey ? createStripeClient({ apiKey, apiBase }) : null,
    };
    // Jobs a command makes due (a replay, a retry) run here before the command returns.
    const jobs = createJobRunner(services, JOB_HANDLERS);
    const result = await runAdminCommand({ ...services, jobs }, Deno.args);
    for (const line of result.lines) (result.code === 0 ? console.log : console.error)(line);
    code = result.code;
  } finally {
    await database.close();
  }
} catch (error) {
  console.error(`admin failed: ${(error as Error).message}`);
}
Deno.exit(code);
