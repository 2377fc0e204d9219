/**
 * The peer: `@supabase/stripe-sync-engine`, Supabase's library that writes Stripe webhook events
 * into PostgreSQL, run by `stripe_sync_engine_server.mjs` under Node. It is installed with npm at
 * bench time into a cache directory outside the repository (kept between runs, one per version),
 * with the Stripe SDK the app uses, so both sides verify signatures with the same code.
 */
import denoConfig from "../deno.json" with { type: "json" };
import { findOnPath, type ServerProcess, startServerProcess } from "./server_process.ts";

export const PEER_PACKAGE = "@supabase/stripe-sync-engine";
export const PEER_VERSION = "0.48.5";
export const PEER_WEBHOOK_PATH = "/webhook";
const STRIPE_VERSION = denoConfig.imports.stripe.replace(/^npm:stripe@/, "");
const RUNNER = new URL("./stripe_sync_engine_server.mjs", import.meta.url).pathname;
const INSTALL_GIVE_UP_AFTER_MS = 180_000;

export interface InstalledPeer {
  dir: string;
  /** `node --version`, without its "v". */
  nodeVersion: string;
}

function peerInstallDir(): string {
  const tmp = Deno.env.get("TMPDIR") || "/tmp";
  return `${tmp}/read-markets-bench/stripe-sync-engine-${PEER_VERSION}-stripe-${STRIPE_VERSION}`;
}

/** Install the peer unless this version is installed already; throws saying what is missing. */
export async function installPeer(progress: (step: string) => void): Promise<InstalledPeer> {
  const node = findOnPath("node");
  const npm = findOnPath("npm");
  if (!node || !npm) throw new Error("needs Node.js and npm on PATH");
  const dir = peerInstallDir();
  if (await installedVersion(dir, PEER_PACKAGE) !== PEER_VERSION) {
    progress(`installing ${PEER_PACKAGE}@${PEER_VERSION} into ${dir}`);
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(
      `${dir}/package.json`,
      JSON.stringify({
        private: true,
        dependencies: { [PEER_PACKAGE]: PEER_VERSION, stripe: STRIPE_VERSION },
      }),
    );
    const installed = await new Deno.Command(npm, {
      args: ["install", "--no-audit", "--no-fund"],
      cwd: dir,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(INSTALL_GIVE_UP_AFTER_MS),
    }).output();
    if (!installed.success) {
      const stderr = new TextDecoder().decode(installed.stderr).trim().split("\n").slice(-3);
      throw new Error(`npm install failed: ${stderr.join(" ")}`);
    }
    const version = await installedVersion(dir, PEER_PACKAGE);
    if (version !== PEER_VERSION) throw new Error(`npm installed ${PEER_PACKAGE} ${version}`);
  }
  const nodeVersion = await new Deno.Command(node, { args: ["--version"] }).output();
  return {
    dir,
    nodeVersion: new TextDecoder().decode(nodeVersion.stdout).trim().replace(/^v/, ""),
  };
}

async function installedVersion(dir: string, name: string): Promise<string | null> {
  try {
    const manifest = await Deno.readTextFile(`${dir}/node_modules/${name}/package.json`);
    return JSON.parse(manifest).version ?? null;
  } catch {
    return null;
  }
}

/** The peer's server on its own database; resolves once its migrations have run. */
export async function startPeer(
  peer: InstalledPeer,
  databaseUrl: string,
  webhookSecret: string,
  poolSize: number,
): Promise<ServerProcess> {
  return await startServerProcess({
    name: `${PEER_PACKAGE} ${PEER_VERSION}`,
    command: "node",
    args: [RUNNER],
    env: {
      PEER_DIR: peer.dir,
      DATABASE_URL: databaseUrl,
      STRIPE_WEBHOOK_SECRET: webhookSecret,
      POOL_SIZE: String(poolSize),
    },
    readyPath: "/",
  });
}
