import { lstat, mkdir, mkdtemp, rm, chmod, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { SetupError } from '../util/errors.js';
import { ownerRecord } from '../process/process-tree.js';

/**
 * Where a run keeps its keys, configs and host data. Not /tmp: sshd's StrictModes refuses an
 * AuthorizedKeysFile below a group- or world-writable directory, and we keep StrictModes on.
 */
export function stateBase(env: NodeJS.ProcessEnv = process.env): string {
  if (env.XFERBENCH_STATE_DIR) return resolve(env.XFERBENCH_STATE_DIR);
  const cache = env.XDG_CACHE_HOME ? resolve(env.XDG_CACHE_HOME) : join(homedir(), '.cache');
  return join(cache, 'xferbench', 'runs');
}

/** The first directory from `path` upwards that sshd's StrictModes check would reject. */
export async function unsafeAncestor(path: string, uid: number, home: string): Promise<string | undefined> {
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    const st = await lstat(dir);
    if ((st.uid !== 0 && st.uid !== uid) || (st.mode & 0o022) !== 0) return dir;
    if (dir === resolve(home) || dir === dirname(dir)) return undefined;
  }
}

/** `PID START`: the process that owns a run's folder (see ownerRecord). */
export const OWNER_FILE = 'owner.pid';
/** Present when the run started containers: `clean` then asks an engine about them. */
export const CONTAINERS_FILE = 'uses-containers';
/** Folders of a private container engine service live beside run folders, so `clean` finds them too. */
export const ENGINE_DIR_PREFIX = 'engine-';
/** Extra directories of the run (outside the state dir) that `clean` must also look for. */
export const EXTRA_DIRS_FILE = 'extra-dirs';

export interface StateDir extends AsyncDisposable {
  readonly path: string;
  /** Leave the directory for inspection instead of removing it on dispose. */
  keep: boolean;
}

export async function createStateDir(base = stateBase()): Promise<StateDir> {
  await mkdir(base, { recursive: true, mode: 0o700 });
  const path = await mkdtemp(join(base, 'run-'));
  await chmod(path, 0o700);
  const uid = process.getuid?.() ?? 0;
  const bad = await unsafeAncestor(path, uid, homedir());
  if (bad) {
    await rm(path, { recursive: true, force: true });
    throw new SetupError(
      `${bad} is writable by others, so sshd (StrictModes) would refuse the run's keys below it. ` +
        'Point XFERBENCH_STATE_DIR at a directory only you can write, e.g. XFERBENCH_STATE_DIR=$HOME/.xferbench',
    );
  }
  // Lets `run` and `clean` tell a dead run's leftovers from a run still going.
  await writeFile(join(path, OWNER_FILE), `${ownerRecord()}\n`);
  const dir: StateDir = {
    path,
    keep: false,
    async [Symbol.asyncDispose]() {
      if (!dir.keep) await rm(path, { recursive: true, force: true, maxRetries: 3 });
    },
  };
  return dir;
}
