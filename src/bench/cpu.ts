/**
 * CPU time spent by processes, for the benchmarks' cost per transaction. Throughput on a shared
 * machine moves with whatever else runs on it; the CPU time a committed transaction costs does
 * not, so it is the figure to compare between runs and changes.
 */
import { readFileSync } from "node:fs";

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ: 100 on Linux). */
const USER_HZ = 100;

/**
 * User plus system CPU seconds of process `pid` and all its threads so far, from
 * /proc/<pid>/stat; undefined where there is no procfs (not Linux) or the process is gone.
 */
export function processCpuSeconds(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 14 (utime) and 15 (stime) of proc(5) are the 12th and 13th after the name.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return (utime + stime) / USER_HZ;
}

/** This process's own CPU seconds (user plus system, all threads). */
export function ownCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Starts measuring the CPU seconds of processes `pids` and of this one; the returned function reads them. */
export function cpuMeter(pids: readonly number[]): () => { nodes: number | undefined; client: number } {
  const nodes0 = pids.map(processCpuSeconds);
  const client0 = ownCpuSeconds();
  return () => {
    const client = ownCpuSeconds() - client0;
    let nodes: number | undefined = 0;
    for (let i = 0; i < pids.length; i++) {
      const before = nodes0[i];
      const after = processCpuSeconds(pids[i]!);
      if (before === undefined || after === undefined) nodes = undefined;
      else if (nodes !== undefined) nodes += after - before;
    }
    return { nodes, client };
  };
}
