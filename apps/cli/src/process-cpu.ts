import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

// Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux almost everywhere).
let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** CPU seconds (user + system) a process has used so far, from /proc; undefined when it is gone or there is no /proc. */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    // Fields after the parenthesised command name: state is the 1st, utime the 12th, stime the 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicks();
  } catch {
    return undefined;
  }
}

/** The pids of the running processes whose command line contains `fragment` (none without /proc). */
export function processesRunning(fragment: string): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    try {
      return readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ').includes(fragment) ? [Number(entry)] : [];
    } catch {
      return [];
    }
  });
}

/** `pid` and its child processes (e.g. node:cluster workers); just `pid` without /proc. */
export function withChildren(pid: number): number[] {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    return [pid, ...(children === '' ? [] : children.split(' ').map(Number))];
  } catch {
    return [pid];
  }
}

/** Named groups of processes whose CPU is measured together (e.g. every Postgres backend of one database). */
export type ProcessGroups = Readonly<Record<string, readonly number[]>>;

/** CPU seconds used by each group between two snapshots. */
export interface CpuWindow {
  readonly seconds: Readonly<Record<string, number>>;
}

/** A snapshot of each group's CPU seconds so far; `since(earlier)` is the CPU used in between. */
export class CpuSnapshot {
  private constructor(private readonly perPid: ReadonlyMap<string, ReadonlyMap<number, number>>) {}

  /**
   * Reads the CPU time of every pid of every group now; a pid of `carried` that is gone keeps its
   * last reading there (a process that exited still used that CPU).
   */
  static take(groups: ProcessGroups, carried?: CpuSnapshot): CpuSnapshot {
    return new CpuSnapshot(
      new Map(
        Object.entries(groups).map(([name, pids]) => {
          const readings = new Map(carried?.perPid.get(name));
          for (const pid of pids) {
            const seconds = processCpuSeconds(pid);
            if (seconds !== undefined) readings.set(pid, seconds);
          }
          return [name, readings];
        }),
      ),
    );
  }

  /** CPU seconds per group from `earlier` to this snapshot (a pid new since then started in between: all its time counts). */
  since(earlier: CpuSnapshot): CpuWindow {
    const seconds: Record<string, number> = {};
    for (const [name, now] of this.perPid) {
      const before = earlier.perPid.get(name);
      let used = 0;
      for (const [pid, total] of now) used += total - (before?.get(pid) ?? 0);
      seconds[name] = used;
    }
    return { seconds };
  }
}
