import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive, processesUsing, signal } from './process-tree.js';
import { ENGINE_DIR_PREFIX, EXTRA_DIRS_FILE, OWNER_FILE, stateBase } from './state-dir.js';

/**
 * Stops what an interrupted run (killed with SIGKILL, a crashed machine) left behind: its sshd
 * hosts and ssh masters, then its state folder. Runs whose owner process is alive are left alone.
 */
export async function cleanLeftovers(base = stateBase()): Promise<{ processes: number; dirs: number }> {
  let processes = 0;
  let dirs = 0;
  for (const name of await readdir(base).catch(() => [] as string[])) {
    if (!name.startsWith('run-') && !name.startsWith(ENGINE_DIR_PREFIX)) continue;
    const dir = join(base, name);
    const owner = Number((await readFile(join(dir, OWNER_FILE), 'utf8').catch(() => '')).trim());
    if (owner && owner !== process.pid && isAlive(owner)) continue;
    const extra = (await readFile(join(dir, EXTRA_DIRS_FILE), 'utf8').catch(() => '')).split('\n').filter(Boolean);
    const pids = await processesUsing([dir, ...extra]);
    for (const pid of pids) signal(pid, 'SIGTERM');
    await sleep(pids.length > 0 ? 500 : 0);
    for (const pid of pids.filter(isAlive)) signal(pid, 'SIGKILL');
    processes += pids.length;
    for (const d of [dir, ...extra]) await rm(d, { recursive: true, force: true });
    dirs++;
  }
  return { processes, dirs };
}
