/**
 * Development entry: refresh `manifest.gen.ts` and the island bundles when their sources changed,
 * then run the server. `deno task build` (`dev.ts build`) rebuilds both unconditionally for a
 * production deployment.
 */
import { buildIslands, ensureBuilt, writeManifest } from "./lib/web/build.ts";

if (Deno.args[0] === "build") {
  await writeManifest();
  const info = await buildIslands();
  console.log(
    `built ${Object.keys(info.islands).length} island(s) into _build/islands/ (entry ${info.boot})`,
  );
} else {
  await ensureBuilt();
  const { main } = await import("./main.ts");
  await main();
}
