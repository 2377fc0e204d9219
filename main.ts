/**
 * The server entry point. It loads no bundler and writes nothing: islands and the route manifest
 * are built beforehand (`deno task build`, or by `dev.ts` in development).
 */
import manifest from "./manifest.gen.ts";
import { loadConfigOrExit } from "./lib/config.ts";
import { createLogger } from "./lib/log.ts";
import { type RunningApp, startApp } from "./lib/start.ts";
import { runJobsOnCron } from "./lib/jobs/runner.ts";

export async function main(): Promise<void> {
  let app: RunningApp | undefined;
  runJobsOnCron(async () => await app?.jobs.wake());
  const config = loadConfigOrExit();
  const log = createLogger({ level: config.logLevel });
  try {
    app = await startApp(config, log, manifest);
  } catch (error) {
    log.error("app.start_failed", { error });
    console.error(`start-up failed: ${(error as Error).message}`);
    Deno.exit(1);
  }
  let stopping = false;
  const stop = async (signal: Deno.Signal) => {
    if (stopping) return;
    stopping = true;
    log.info("app.stopping", { signal });
    await app!.shutdown();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", () => stop("SIGINT"));
  Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));
}

if (import.meta.main) await main();
