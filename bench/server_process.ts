/**
 * A server under test in a process of its own — the app, the bare page server, the peer — so the
 * bench can read what that one process holds in memory, and every server runs the same way: its
 * own process, reached over loopback, while the load comes from elsewhere.
 */
import { cpuTicks } from "./cpu.ts";

export interface ServerProcess {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  url: string;
  pid: number;
  /** Resident memory (VmRSS) now, in bytes; null where there is no /proc. */
  residentBytes(): Promise<number | null>;
  /**
   * Resolves once the process has stopped using the CPU (work it queued for after its answers,
   * such as jobs, is done), so it does not weigh on whatever is measured next.
   */
  untilIdle(): Promise<void>;
  /** SIGTERM, then wait for the process to end. */
  stop(): Promise<void>;
}

export interface ServerCommand {
  /** What the process is, for messages. */
  name: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
  /** Answers `200` on this path once it serves. */
  readyPath: string;
}

const GIVE_UP_AFTER_MS = 60_000;
/** Enough of a failed process's stderr to say why. */
const STDERR_KEPT_CHARS = 4000;

export async function startServerProcess(server: ServerCommand): Promise<ServerProcess> {
  const port = freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = new Deno.Command(server.command, {
    args: server.args,
    cwd: server.cwd,
    env: { ...server.env, PORT: String(port) },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = keepTail(child.stderr);
  const exited = child.status;
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // Already exited.
    }
    await exited;
    await stderr.done;
  };
  const started = performance.now();
  while (performance.now() - started < GIVE_UP_AFTER_MS) {
    const state = await Promise.race([
      answersOk(`${url}${server.readyPath}`),
      exited.then(() => "exited" as const),
    ]);
    if (state === "ok") {
      return {
        url,
        pid: child.pid,
        residentBytes: () => residentBytes(child.pid),
        untilIdle: () => untilIdle(child.pid),
        stop,
      };
    }
    if (state === "exited") {
      const { code } = await exited;
      await stderr.done;
      throw new Error(`${server.name} exited with ${code} before serving: ${stderr.text()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await stop();
  throw new Error(`${server.name} did not answer 200 on ${server.readyPath} within 60 s`);
}

/** VmRSS of a process from /proc, in bytes. */
export async function residentBytes(pid: number): Promise<number | null> {
  try {
    const status = await Deno.readTextFile(`/proc/${pid}/status`);
    const kib = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
    return kib ? Number(kib) * 1024 : null;
  } catch {
    return null;
  }
}

const IDLE_SAMPLE_MS = 100;
/** At most this much CPU in a sample counts as idle (clock ticks are usually 10 ms). */
const IDLE_TICKS = 1;
const IDLE_GIVE_UP_AFTER_MS = 10_000;

async function untilIdle(pid: number): Promise<void> {
  const deadline = performance.now() + IDLE_GIVE_UP_AFTER_MS;
  let before = await cpuTicks(pid);
  while (before !== null && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, IDLE_SAMPLE_MS));
    const after = await cpuTicks(pid);
    if (after === null || after - before <= IDLE_TICKS) return;
    before = after;
  }
}

async function answersOk(url: string): Promise<"ok" | "not yet"> {
  try {
    const response = await fetch(url);
    await response.body?.cancel();
    return response.status === 200 ? "ok" : "not yet";
  } catch {
    return "not yet";
  }
}

/** Drain a stream (a full pipe would stall the process), keeping its last characters. */
function keepTail(stream: ReadableStream<Uint8Array>): { text(): string; done: Promise<void> } {
  let kept = "";
  const decoder = new TextDecoder();
  const done = (async () => {
    for await (const chunk of stream) {
      kept = (kept + decoder.decode(chunk, { stream: true })).slice(-STDERR_KEPT_CHARS);
    }
  })();
  return { text: () => kept.trim(), done };
}

export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** The path of `name` as a shell would find it on PATH, or null. */
export function findOnPath(name: string): string | null {
  for (const directory of (Deno.env.get("PATH") ?? "").split(":")) {
    if (!directory) continue;
    const candidate = `${directory}/${name}`;
    try {
      const info = Deno.statSync(candidate);
      if (info.isFile && (info.mode ?? 0o111) & 0o111) return candidate;
    } catch {
      // Not in this directory.
    }
  }
  return null;
}
