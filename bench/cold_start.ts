/**
 * Cold start: from spawning a server process to its first `200` on `/`. The app is `main.ts`
 * (islands prebuilt, database already migrated), the limit a bare `Deno.serve` script, both
 * started the same way and alternately.
 */
export interface ColdStartSizes {
  /** Processes started of each kind. */
  spawns: number;
}

export interface ColdStartResult {
  appMs: number[];
  limitMs: number[];
}

const PROJECT_ROOT = new URL("../", import.meta.url);
const APP_ENTRY = new URL("main.ts", PROJECT_ROOT).pathname;
const BARE_ENTRY = new URL("./bare_server.ts", import.meta.url).pathname;
const GIVE_UP_AFTER_MS = 60_000;

export async function benchColdStart(
  databaseUrl: string,
  sizes: ColdStartSizes,
): Promise<ColdStartResult> {
  const result: ColdStartResult = { appMs: [], limitMs: [] };
  for (let i = 0; i < sizes.spawns; i++) {
    result.appMs.push(await timeToFirstOk(APP_ENTRY, { DATABASE_URL: databaseUrl }));
    result.limitMs.push(await timeToFirstOk(BARE_ENTRY, {}));
  }
  return result;
}

async function timeToFirstOk(entry: string, env: Record<string, string>): Promise<number> {
  const port = freePort();
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", entry],
    cwd: PROJECT_ROOT.pathname,
    env: { ...env, PORT: String(port), LOG_LEVEL: "error" },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const exited = child.output();
  try {
    while (performance.now() - started < GIVE_UP_AFTER_MS) {
      const status = await Promise.race([firstOk(port), exited.then(() => "exited" as const)]);
      if (status === "ok") return performance.now() - started;
      if (status === "exited") {
        const { code, stderr } = await exited;
        throw new Error(`${entry} exited with ${code}: ${new TextDecoder().decode(stderr)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    throw new Error(`${entry} did not answer 200 on / within ${GIVE_UP_AFTER_MS} ms`);
  } finally {
    try {
      child.kill("SIGTERM");
    } catch {
      // Already exited.
    }
    await exited;
  }
}

/** One attempt: "ok" on a 200, "not yet" while the port refuses or answers otherwise. */
async function firstOk(port: number): Promise<"ok" | "not yet"> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/`);
    await response.body?.cancel();
    return response.status === 200 ? "ok" : "not yet";
  } catch {
    return "not yet";
  }
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}
