/**
 * CPU time from /proc, so a run can say what each operation cost and where: in the server under
 * test, in PostgreSQL (every `postgres` process on the machine: the bench's server), and in the
 * bench's own process (the load client, or a reference that runs in it). Where there is no /proc
 * nothing is measured and the figures are null.
 */

/** Linux reports CPU time in clock ticks of 1/100 s (USER_HZ, the same on every architecture). */
const MICROS_PER_TICK = 10_000;

/** CPU used by each part of a side's work, in microseconds. */
export interface CpuSpent {
  /** The server process under test; null for a side that runs in the bench's process. */
  server: number | null;
  database: number;
  /** The bench's process, with the children it waited for (wrk). */
  bench: number;
}

/** CPU time a process has used, user and system, in clock ticks; null where there is no /proc. */
export async function cpuTicks(pid: number | "self", withChildren = false): Promise<number | null> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    // Fields after the command name, which is in parentheses and may hold spaces: utime and stime
    // are the 12th and 13th, then the waited-for children's cutime and cstime.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ").map(Number);
    return fields[11] + fields[12] + (withChildren ? fields[13] + fields[14] : 0);
  } catch {
    return null;
  }
}

/**
 * Clock ticks used so far by every process called `postgres`, with the children they reaped: a
 * backend that ends (an idle connection closed) leaves its time to the postmaster, so the total
 * never goes back. Null where there is no /proc.
 */
async function postgresTicks(): Promise<number | null> {
  let total = 0;
  try {
    for await (const entry of Deno.readDir("/proc")) {
      if (!/^\d+$/.test(entry.name)) continue;
      try {
        const comm = await Deno.readTextFile(`/proc/${entry.name}/comm`);
        if (comm.trim() === "postgres") total += (await cpuTicks(Number(entry.name), true)) ?? 0;
      } catch {
        // The process ended while the list was read.
      }
    }
  } catch {
    return null;
  }
  return total;
}

interface Reading {
  server: number | null;
  database: number | null;
  bench: number | null;
}

async function read(serverPid: number | null): Promise<Reading> {
  const [server, database, bench] = await Promise.all([
    serverPid === null ? null : cpuTicks(serverPid),
    postgresTicks(),
    cpuTicks("self", true),
  ]);
  return { server, database, bench };
}

/**
 * Run `work` and report, beside what it returns, the CPU each part spent on it. The servers are
 * left to go idle before the first reading and after `work`, so work a side left queued (the app
 * sends its notices after answering) is charged to that side.
 */
export async function withCpu<T>(
  serverPid: number | null,
  untilIdle: () => Promise<void>,
  work: () => Promise<T>,
): Promise<{ result: T; cpu: CpuSpent | null }> {
  await untilIdle();
  const before = await read(serverPid);
  const result = await work();
  await untilIdle();
  const after = await read(serverPid);
  const spent = (key: keyof Reading) => {
    const [b, a] = [before[key], after[key]];
    return a === null || b === null ? null : (a - b) * MICROS_PER_TICK;
  };
  const [server, database, bench] = [spent("server"), spent("database"), spent("bench")];
  if (database === null || bench === null || (serverPid !== null && server === null)) {
    return { result, cpu: null };
  }
  return { result, cpu: { server, database, bench } };
}

/** Several runs' CPU as one; null when any run could not be measured. */
export function addCpu(spent: (CpuSpent | null)[]): CpuSpent | null {
  if (spent.length === 0 || spent.some((cpu) => cpu === null)) return null;
  const all = spent as CpuSpent[];
  const sum = (pick: (cpu: CpuSpent) => number | null) =>
    all.reduce((total, cpu) => total + (pick(cpu) ?? 0), 0);
  return {
    server: all[0].server === null ? null : sum((cpu) => cpu.server),
    database: sum((cpu) => cpu.database),
    bench: sum((cpu) => cpu.bench),
  };
}
