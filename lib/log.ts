/**
 * Structured logging: one JSON object per line on stdout, shaped
 * `{ time, level, event, ...fields }`, as the README's Configuration section describes.
 *
 * Field values whose key looks secret are replaced before they are written, so a careless
 * `log.info("x", { token })` cannot leak a credential into the logs.
 */

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line it writes (e.g. a request id). */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Where finished lines go; stdout by default. Tests pass an array's `push`. */
  sink?: (line: string) => void;
  now?: () => Date;
}

const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SECRET_KEY = /secret|password|passwd|token|authorization|cookie|api_?key|signature/i;
export const REDACTED = "[redacted]";

export function createLogger(options: LoggerOptions = {}, base: LogFields = {}): Logger {
  const minimum = LEVEL_RANK[options.level ?? "info"];
  const sink = options.sink ?? writeToStdout;
  const now = options.now ?? (() => new Date());

  const write = (level: LogLevel, event: string, fields: LogFields = {}) => {
    if (LEVEL_RANK[level] < minimum) return;
    const record: LogFields = { time: now().toISOString(), level, event };
    // The base fields, then the line's own (which win): one line per request, so no copies.
    for (const source of [base, fields]) {
      for (const key of Object.keys(source)) {
        if (key === "time" || key === "level" || key === "event") continue;
        record[key] = isSecretKey(key) ? REDACTED : toLoggable(source[key]);
      }
    }
    sink(JSON.stringify(record));
  };

  return {
    debug: (event, fields) => write("debug", event, fields),
    info: (event, fields) => write("info", event, fields),
    warn: (event, fields) => write("warn", event, fields),
    error: (event, fields) => write("error", event, fields),
    child: (fields) => createLogger(options, { ...base, ...fields }),
  };
}

/** Whether a field's name looks secret; the answer is kept, as the same names recur. */
const secretKeys = new Map<string, boolean>();
function isSecretKey(key: string): boolean {
  let secret = secretKeys.get(key);
  if (secret === undefined) {
    secret = SECRET_KEY.test(key);
    if (secretKeys.size < 1000) secretKeys.set(key, secret);
  }
  return secret;
}

/** Errors do not survive JSON.stringify; keep what an operator needs from them. */
function toLoggable(value: unknown): unknown {
  if (value instanceof Error) {
    const out: LogFields = { name: value.name, message: value.message };
    const code = (value as { code?: unknown }).code;
    if (code !== undefined) out.code = code;
    if (value.stack) out.stack = value.stack.split("\n").slice(0, 8).join("\n");
    return out;
  }
  if (typeof value === "bigint") return value.toString();
  return value;
}

/**
 * Lines for stdout, written together once the current turn of the event loop is over: under
 * load, one write for many requests' lines instead of one each. Whatever is pending is written
 * before the process exits, or reports an uncaught error.
 */
const pendingLines: string[] = [];
let flushScheduled = false;
const encoder = new TextEncoder();

function writeToStdout(line: string): void {
  pendingLines.push(line);
  if (flushScheduled) return;
  flushScheduled = true;
  setTimeout(flushStdout, 0);
}

/** Write every pending line now. */
function flushStdout(): void {
  flushScheduled = false;
  if (pendingLines.length === 0) return;
  const bytes = encoder.encode(pendingLines.splice(0).join("\n") + "\n");
  let written = 0;
  while (written < bytes.length) written += Deno.stdout.writeSync(bytes.subarray(written));
}

for (const moment of ["unload", "error", "unhandledrejection"]) {
  globalThis.addEventListener(moment, flushStdout);
}
