import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { mountsBelow, unmount } from './mounts.js';
import { deleteTablesBelow } from './nft-table.js';
import { isAlive, ownerAlive, processesUsing, signal } from '../process/process-tree.js';
import { CONTAINERS_FILE, ENGINE_DIR_PREFIX, EXTRA_DIRS_FILE, OWNER_FILE, stateBase } from './state-dir.js';

/** Left in the state base when a reaped run had used containers that nobody asked an engine about yet. */
export const CONTAINERS_PENDING = 'containers-pending';

/** A folder just made has no owner file yet for a moment; only an older one without it is dead. */
const UNOWNED_GRACE_MS = 60_000;

export interface ReapedRun {
  dir: string;
  /** The owner record of the dead run (`PID START`), empty if it never got one. */
  owner: string;
  processes: number;
}

export interface Reaped {
  processes: number;
  dirs: number;
  runs: ReapedRun[];
  /** A reaped run (now or earlier) had started containers: they may still be in an engine. */
  usedContainers: boolean;
}

export interface CleanOptions {
  /** The caller removes dead runs' containers itself; else a note is left for `clean`. */
  containersHandled?: boolean;
}

/**
 * Stops what dead runs (killed with SIGKILL, a crashed machine) left behind: their sshd hosts
 * and ssh masters, then their state folders. A run whose owner process still runs (same pid,
 * same start time) is left alone. `run` calls this before it starts, `clean` on demand.
 */
export async function cleanLeftovers(base = stateBase(), options: CleanOptions = {}): Promise<Reaped> {
  const runs: ReapedRun[] = [];
  const pending = join(base, CONTAINERS_PENDING);
  let usedContainers = await stat(pending).then(() => true, () => false);
  for (const name of await readdir(base).catch(() => [] as string[])) {
    if (!name.startsWith('run-') && !name.startsWith(ENGINE_DIR_PREFIX)) continue;
    const dir = join(base, name);
    const owner = (await readFile(join(dir, OWNER_FILE), 'utf8').catch(() => '')).trim();
    if (owner ? ownerAlive(owner) : Date.now() - ((await stat(dir).catch(() => undefined))?.mtimeMs ?? 0) < UNOWNED_GRACE_MS) continue;
    const extra = (await readFile(join(dir, EXTRA_DIRS_FILE), 'utf8').catch(() => '')).split('\n').filter(Boolean);
    usedContainers ||= await stat(join(dir, CONTAINERS_FILE)).then(() => true, () => false);
    const pids = await processesUsing([dir, ...extra]);
    for (const pid of pids) signal(pid, 'SIGTERM');
    await sleep(pids.length > 0 ? 500 : 0);
    for (const pid of pids.filter(isAlive)) signal(pid, 'SIGKILL');
    // Faults may have left a size-limited mount inside it (disk_full), or nftables rules (reset, bandwidth).
    for (const d of [dir, ...extra]) for (const m of await mountsBelow(d)) await unmount(m);
    await deleteTablesBelow(dir);
    for (const d of [dir, ...extra]) await rm(d, { recursive: true, force: true });
    runs.push({ dir, owner, processes: pids.length });
  }
  if (usedContainers) await (options.containersHandled ? rm(pending, { force: true }) : writeFile(pending, ''));
  return { processes: runs.reduce((n, r) => n + r.processes, 0), dirs: runs.length, runs, usedContainers };
}

/** One line for people: what was reaped and whose it was. */
export function describeReaped(r: Reaped): string {
  const owners = r.runs.map((x) => (x.owner ? `pid ${x.owner.split(' ')[0]}` : 'no owner')).join(', ');
  return `reaped ${r.processes} process(es) and ${r.dirs} state folder(s) of run(s) whose owner is gone (${owners})`;
}
