import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

// /proc is read synchronously here: a few hundred small files take a few ms so, where each
// awaited read was a thread-pool round trip (about 40 ms at the end of every run).
function procEntries(): string[] {
  try {
    return readdirSync('/proc');
  } catch {
    return [];
  }
}

/** /proc/PID/NAME as text; '' when the process is gone or not ours to read. */
function procText(pid: string, name: string): string {
  try {
    return readFileSync(`/proc/${pid}/${name}`, 'utf8');
  } catch {
    return '';
  }
}

/**
 * /proc/PID/stat from its third field on (state, ppid, ... : field N is at index N - 3), or
 * undefined when the process is gone. The command name before them is in parentheses and may
 * hold spaces and parentheses itself, hence the last ')'.
 */
export function statFields(pid: number | string): string[] | undefined {
  const stat = procText(String(pid), 'stat');
  return stat ? stat.slice(stat.lastIndexOf(')') + 2).split(' ') : undefined;
}

function mountNamespace(pid: string): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/mnt`);
  } catch {
    return undefined;
  }
}

/**
 * Every descendant of `pid` (children, grandchildren...), read from /proc (Linux). sshd's
 * per-connection children call setsid(), leaving sshd's process group, and the session's
 * shell and `rsync --server` sit below them: only the parent chain finds them all.
 * Returns [] where /proc is not available.
 */
export async function descendantPids(pid: number): Promise<number[]> {
  const childrenOf = new Map<number, number[]>();
  for (const e of procEntries()) {
    const fields = /^\d+$/.test(e) ? statFields(e) : undefined;
    if (!fields) continue; // not a process, or it ended while we looked
    const ppid = Number(fields[1]); // field 4
    childrenOf.set(ppid, [...(childrenOf.get(ppid) ?? []), Number(e)]);
  }
  const out: number[] = [];
  for (let queue = [pid]; queue.length > 0; ) {
    const next = childrenOf.get(queue.shift()!) ?? [];
    out.push(...next);
    queue.push(...next);
  }
  return out;
}

/** Field 22 of /proc/PID/stat: when the process started, in clock ticks since boot. */
const startTicks = (pid: number): string | undefined => statFields(pid)?.[19];

/** This process as an owner: its pid and start time, so a reused pid is not mistaken for it. */
export const ownerRecord = (): string => `${process.pid} ${startTicks(process.pid) ?? ''}`.trim();

/** Whether the owner a record names still runs: the same pid, started at the same moment. */
export function ownerAlive(record: string): boolean {
  const [pid, start] = record.trim().split(/\s+/);
  const n = Number(pid);
  if (!Number.isInteger(n) || n <= 0) return false;
  if (n === process.pid) return true;
  return isAlive(n) && (start === undefined || startTicks(n) === start);
}

/** True while the process exists and is not a zombie (a zombie holds nothing but its pid). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const state = statFields(pid)?.[0];
  return state === undefined || state !== 'Z'; // no /proc: kill(0) is all we know
}

/**
 * Stops `pid` and everything below it. The tree is frozen first (SIGSTOP, walked again until
 * no new process appears), because a process forked between a walk and a signal would escape,
 * and once its parent is gone it is re-parented to init and no walk finds it. Then all get SIGKILL.
 */
export async function killTree(pid: number, waitMs: number, options: { keepRoot?: boolean } = {}): Promise<void> {
  // keepRoot: everything below pid, not pid itself (a container's init that must stay).
  const frozen = new Set<number>(options.keepRoot ? [] : [pid]);
  if (!options.keepRoot) signal(pid, 'SIGSTOP');
  for (let round = 0; round < 20; round++) {
    const fresh = (await descendantPids(pid)).filter((p) => !frozen.has(p));
    if (fresh.length === 0) break;
    for (const p of fresh) {
      signal(p, 'SIGSTOP');
      frozen.add(p);
    }
  }
  for (const p of frozen) signal(p, 'SIGKILL');
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline && [...frozen].some(isAlive)) await sleep(10);
}

/** Processes whose command line mentions one of `paths` (sshd -f <state>/..., ssh ControlPath=<dir>/...). */
export async function processesUsing(paths: readonly string[]): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of procEntries()) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const cmdline = procText(entry, 'cmdline');
    if (paths.some((p) => cmdline.includes(p)) || slurmConfIn(entry, paths)) pids.push(Number(entry));
  }
  return pids;
}

/**
 * Ends what still names `path` (a run's ssh control folder): first `graceMs` for it to end on
 * its own (ssh's ProxyJump child gets SIGHUP from its dying parent, and on a loaded machine takes
 * a while to act on it), then SIGKILL, and waits for that. Nothing of a run outlives the run.
 */
export async function endProcessesUsing(path: string, graceMs: number): Promise<void> {
  const deadline = Date.now() + graceMs;
  let pids = await processesUsing([path]);
  while (pids.length > 0 && Date.now() < deadline) {
    await sleep(20);
    pids = await processesUsing([path]);
  }
  for (const p of pids) signal(p, 'SIGKILL');
  const gone = Date.now() + 2000;
  while (pids.some(isAlive) && Date.now() < gone) await sleep(10);
}

/**
 * A process of a private Slurm cluster below one of `paths`: srun, a job step's slurmstepd and
 * its tasks name no file of the run on their command line, but inherit SLURM_CONF.
 */
function slurmConfIn(pid: string, paths: readonly string[]): boolean {
  const environ = procText(pid, 'environ');
  return environ.split('\0').some((v) => v.startsWith('SLURM_CONF=') && paths.some((p) => v.slice('SLURM_CONF='.length).startsWith(p)));
}

/**
 * Processes in the same mount namespace as `pid` (which is excluded): what was started inside a
 * container with nsenter. They live in this machine's PID namespace, so stopping the container
 * does not end them.
 */
export async function processesInMountNamespaceOf(pid: number): Promise<number[]> {
  const ns = mountNamespace(String(pid));
  // A container that died has released its pid: whoever reuses it may share our namespace.
  if (!ns || ns === (mountNamespace('self') ?? ns)) return [];
  const out: number[] = [];
  for (const entry of procEntries()) {
    if (!/^\d+$/.test(entry) || Number(entry) === pid) continue;
    if (mountNamespace(entry) === ns) out.push(Number(entry));
  }
  return out;
}

export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}
