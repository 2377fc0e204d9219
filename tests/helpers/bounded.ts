/**
 * Waiting with a bound. A test that waits on a process, a socket or a signal gives up after a
 * stated time and fails saying what it was waiting for, instead of hanging the whole run.
 */

/** `promise`, or a rejection naming `what` once `ms` have passed. */
export async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`gave up after ${ms / 1000} s waiting for ${what}`)),
      ms,
    );
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Poll `condition` until it holds, for at most `ms`. */
export async function waitUntil(
  what: string,
  condition: () => boolean | Promise<boolean>,
  ms = 5_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`gave up after ${ms / 1000} s waiting for ${what}`);
}

export interface Finished {
  code: number;
  stdout: string;
  stderr: string;
}

/** How long a `deno run` of the project may take here, start-up and type checks included. */
export const DENO_RUN_MS = 60_000;

/**
 * Run `deno <args>` in the project and collect its output; killed, and the test failed, when it
 * runs longer than `timeoutMs`.
 */
export async function runDeno(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {},
): Promise<Finished> {
  const timeoutMs = options.timeoutMs ?? DENO_RUN_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const output = await new Deno.Command(Deno.execPath(), {
    args,
    env: options.env,
    cwd: options.cwd,
    stdout: "piped",
    stderr: "piped",
    signal: timeout,
  }).output();
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  if (timeout.aborted) {
    throw new Error(`gave up after ${timeoutMs / 1000} s waiting for deno ${args.join(" ")}`);
  }
  return { code: output.code, stdout: text(output.stdout), stderr: text(output.stderr) };
}
