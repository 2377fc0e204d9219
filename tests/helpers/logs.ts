/** A logger that keeps its lines in memory, for asserting on what the app logged. */
import { createLogger, type Logger } from "../../lib/log.ts";

export interface CapturedLog {
  log: Logger;
  lines: string[];
  /** Parsed records, optionally only those with the given event name. */
  records(event?: string): Record<string, unknown>[];
}

export function captureLog(): CapturedLog {
  const lines: string[] = [];
  return {
    log: createLogger({ level: "debug", sink: (line) => lines.push(line) }),
    lines,
    records(event) {
      const all = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
      return event ? all.filter((r) => r.event === event) : all;
    },
  };
}
