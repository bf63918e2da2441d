import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { statFields } from './process-tree.js';

// What the kernel says about who had the CPU (Linux /proc; undefined elsewhere). A long ramp of
// launches on a saturated machine is either work (the launcher on a CPU) or waiting (the
// launcher runnable, in the run queue, while hundreds of handshakes had the cores): schedstat
// tells the two apart, as no wall-clock figure can.

/** One thread's time on a CPU and time runnable but waiting for one, ms, since it started. */
export interface ThreadTimes {
  cpuMs: number;
  waitMs: number;
}

/** /proc/PID/task/TID/schedstat: "ns on CPU, ns waiting in the run queue, timeslices". */
export function threadTimes(pid: number, tid = pid): ThreadTimes | undefined {
  try {
    const [cpu, wait] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ').map(Number);
    return Number.isFinite(cpu) && Number.isFinite(wait) ? { cpuMs: cpu! / 1e6, waitMs: wait! / 1e6 } : undefined;
  } catch {
    return undefined;
  }
}

/** A process's nice value (/proc/PID/stat, field 19). */
export function niceOf(pid: number): number | undefined {
  const nice = Number(statFields(pid)?.[16]);
  return Number.isInteger(nice) ? nice : undefined;
}

/** The nice value of a process's autogroup (its session's CPU share), or undefined without autogroup. */
export function groupNiceOf(pid: number): number | undefined {
  try {
    if (readFileSync('/proc/sys/kernel/sched_autogroup_enabled', 'utf8').trim() !== '1') return undefined;
    const nice = /nice (-?\d+)/.exec(readFileSync(`/proc/${pid}/autogroup`, 'utf8'))?.[1];
    return nice === undefined ? undefined : Number(nice);
  } catch {
    return undefined;
  }
}

/** The whole machine: busy CPU time over all cores (ms since boot) and threads runnable now. */
export interface MachineTimes {
  busyMs: number;
  runnable: number;
}

const USER_HZ_MS = 10; // /proc/stat counts in USER_HZ, 100 on every Linux build Node runs on

export function machineTimes(): MachineTimes | undefined {
  try {
    const stat = readFileSync('/proc/stat', 'utf8');
    // cpu  user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
    const f = stat.slice(0, stat.indexOf('\n')).trim().split(/\s+/).slice(1).map(Number);
    const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
    const running = /^procs_running (\d+)$/m.exec(stat);
    return { busyMs: busy * USER_HZ_MS, runnable: running ? Number(running[1]) : 0 };
  } catch {
    return undefined;
  }
}

export const cores = () => availableParallelism();
