/**
 * The production entry as it would run on Deno Deploy: `main.ts` in a separate process with
 * Deploy-like permissions (network, environment and reading only — no writing, no spawning),
 * optionally from a copy of the project without its development-only parts.
 */
import { within } from "./bounded.ts";

export const DEPLOY_PERMISSIONS = [
  "--allow-net",
  "--allow-env",
  "--allow-read",
  "--deny-write",
  "--deny-run",
];

const ROOT = new URL("../../", import.meta.url).pathname;

/** Source files and packages only development uses; production must run without them. */
export const DEVELOPMENT_ONLY = {
  files: ["dev.ts", "lib/web/build.ts", "lib/db/embedded.ts", "lib/stripe_simulator", "tests"],
  packages: [
    "esbuild",
    "@esbuild",
    "@electric-sql",
    "playwright-core",
    "smtp-server",
    "mailparser",
  ],
};

/**
 * The project as deployed, minus every development-only file and package: if the production
 * entry serves from here, it never loaded the simulator, the embedded database or the bundler.
 */
export async function deployableCopy(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "read-markets-deploy-" });
  const tracked = new TextDecoder().decode(
    (await new Deno.Command("git", { args: ["ls-files"], cwd: ROOT, stdout: "piped" }).output())
      .stdout,
  ).split("\n").filter(Boolean);
  const excluded = (path: string) =>
    DEVELOPMENT_ONLY.files.some((file) => path === file || path.startsWith(`${file}/`));
  for (const path of [...tracked.filter((p) => !excluded(p)), "manifest.gen.ts"]) {
    const folder = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "";
    await Deno.mkdir(`${dir}/${folder}`, { recursive: true });
    await Deno.copyFile(`${ROOT}${path}`, `${dir}/${path}`);
  }
  await copyTree(`${ROOT}_build`, `${dir}/_build`);
  await copyTree(`${ROOT}node_modules`, `${dir}/node_modules`);
  for (const entry of await Array.fromAsync(Deno.readDir(`${dir}/node_modules/.deno`))) {
    if (DEVELOPMENT_ONLY.packages.some((name) => entry.name.startsWith(name.replace("/", "+")))) {
      await Deno.remove(`${dir}/node_modules/.deno/${entry.name}`, { recursive: true });
    }
  }
  for (const name of DEVELOPMENT_ONLY.packages) {
    await Deno.remove(`${dir}/node_modules/${name}`, { recursive: true }).catch(() => {});
  }
  return dir;
}

async function copyTree(from: string, to: string): Promise<void> {
  const copied = await new Deno.Command("cp", { args: ["-a", from, to] }).output();
  if (!copied.success) throw new Error(`could not copy ${from}`);
}

export interface ProductionProcess {
  url: string;
  /** Every JSON log line so far. */
  logs: Record<string, unknown>[];
  signal(signal: Deno.Signal): void;
  /** Resolves with the exit code once the process has ended (bounded: see `EXIT_MS`). */
  exited: Promise<number>;
  /** End the process now if it is still running (cleanup after a failed step). */
  kill(): Promise<void>;
}

/** How long the process may take to start serving, and to exit once asked to. */
const START_MS = 60_000;
const EXIT_MS = 30_000;

/** Start `main.ts` in `dir` with the Deploy-like permissions; resolves once it serves. */
export async function startProduction(
  dir: string,
  env: Record<string, string>,
): Promise<ProductionProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    // `manual`: use node_modules exactly as it is; never install what is missing.
    args: ["run", "--node-modules-dir=manual", ...DEPLOY_PERMISSIONS, "main.ts"],
    cwd: dir,
    // Only what Deno itself needs, plus the app's settings: nothing leaks in from the test run.
    env: { ...pick(Deno.env.toObject(), ["HOME", "PATH", "DENO_DIR", "XDG_CACHE_HOME"]), ...env },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const logs: Record<string, unknown>[] = [];
  const started = Promise.withResolvers<string>();
  const stderr = new Response(child.stderr).text();
  (async () => {
    let buffered = "";
    const decoder = new TextDecoder();
    for await (const chunk of child.stdout) {
      buffered += decoder.decode(chunk, { stream: true });
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      for (const line of lines.filter(Boolean)) {
        const record = JSON.parse(line);
        logs.push(record);
        if (record.event === "app.started") started.resolve(String(record.url));
      }
    }
  })();
  const status = child.status.then((status) => status.code);
  status.then(async (code) => started.reject(new Error(`exited with ${code}: ${await stderr}`)));
  const kill = async () => {
    try {
      child.kill("SIGKILL");
    } catch {
      // It had already ended.
    }
    await status;
  };
  let url: string;
  try {
    url = await within(START_MS, "main.ts to log app.started", started.promise);
  } catch (error) {
    await kill();
    throw error;
  }
  return {
    url: url.replace("localhost", "127.0.0.1"),
    logs,
    signal: (signal) => child.kill(signal),
    get exited() {
      return within(EXIT_MS, "main.ts to exit", status);
    },
    kill,
  };
}

function pick(from: Record<string, string>, names: string[]): Record<string, string> {
  return Object.fromEntries(names.filter((name) => name in from).map((name) => [name, from[name]]));
}
