/**
 * Page load from `wrk`, a C load generator: at the rates pages reach, a client written in
 * JavaScript saturates before the server does and measures itself. Where wrk is missing, the
 * bench says how to install it and falls back to its fetch client.
 */
import type { Throughput } from "./load.ts";
import { findOnPath } from "./server_process.ts";

export interface WrkOptions {
  threads: number;
  connections: number;
  seconds: number;
  headers?: Record<string, string>;
}

export const WRK_INSTALL_HINT = "apt-get install wrk";

export function findWrk(): string | null {
  return findOnPath("wrk");
}

/** `wrk -t… -c… -d…s`, as the table names it. */
export function wrkCommand(options: Omit<WrkOptions, "headers">): string {
  return `wrk -t${options.threads} -c${options.connections} -d${options.seconds}s`;
}

export async function runWrk(wrk: string, url: string, options: WrkOptions): Promise<Throughput> {
  const headerArgs = Object.entries(options.headers ?? {}).flatMap(([name, value]) => [
    "-H",
    `${name}: ${value}`,
  ]);
  const args = [
    `-t${options.threads}`,
    `-c${options.connections}`,
    `-d${options.seconds}s`,
    ...headerArgs,
    url,
  ];
  const output = await new Deno.Command(wrk, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout((options.seconds + 30) * 1000),
  }).output();
  const stdout = new TextDecoder().decode(output.stdout);
  if (!output.success) {
    throw new Error(`wrk ${args.join(" ")} failed: ${new TextDecoder().decode(output.stderr)}`);
  }
  return parseWrkOutput(stdout);
}

/** Requests, time and errors from wrk's report; an answer that is not 2xx or 3xx is a failure. */
export function parseWrkOutput(report: string): Throughput {
  const total = /(\d+) requests in ([\d.]+)(us|ms|s|m)\b/.exec(report);
  if (!total) throw new Error(`no request count in wrk's report:\n${report}`);
  const requests = Number(total[1]);
  const seconds = Number(total[2]) * SECONDS_PER[total[3] as keyof typeof SECONDS_PER];
  const wrongStatus = Number(/Non-2xx or 3xx responses: (\d+)/.exec(report)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(
    report,
  );
  const socketErrors = socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
  const problems = [
    wrongStatus ? `${wrongStatus} answers not 2xx or 3xx` : "",
    socketErrors ? socket![0] : "",
  ].filter(Boolean);
  return {
    completed: requests - wrongStatus,
    failed: wrongStatus + socketErrors,
    firstFailure: problems.length ? `wrk: ${problems.join("; ")}` : null,
    seconds,
  };
}

const SECONDS_PER = { us: 1e-6, ms: 1e-3, s: 1, m: 60 };
