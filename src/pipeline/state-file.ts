import { open, readFile, readdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { StepName } from '../records/transfer-record.js';

/**
 * A committed file's life, as a checkpoint library records it: `pending` (planned), `inprog`
 * (an invocation is moving it), `landed` (complete under its temporary name), `final` (renamed
 * into place, metadata applied), `error` (failed; its temporary must go), `removed` (temporary
 * or output deleted by finalize or cleanup).
 */
export type FileStatus = 'pending' | 'inprog' | 'landed' | 'final' | 'error' | 'removed';

export interface FileState {
  step: 'stage_in' | 'stage_out';
  /** Absolute paths on this machine (both backends keep host folders here). */
  source: string;
  temp: string;
  final: string;
  /** The source's lstat when the transfer was planned: what finalize restores and checks. */
  size: number;
  mode: number;
  uid: number;
  gid: number;
  atime_ns: string;
  mtime_ns: string;
  status: FileStatus;
  error?: string;
}

export type StepState = 'running' | 'ok' | 'failed' | 'skipped';

/** One rank's state: what its steps reached and every committed file. Rewritten whole, atomically. */
export interface RankState {
  version: 1;
  cell: string;
  repeat: number;
  rank: number;
  steps: Partial<Record<StepName, { status: StepState; failure_class?: string; waited_on?: StepName }>>;
  files: FileState[];
  /** Each committing step's temporary folder for this rank: removed whole once nothing in it is landed. */
  temp_roots: string[];
}

export const stateFileName = (rank: number) => `rank-${rank}.json`;

/**
 * write + fsync + rename + fsync of the folder: a crash leaves the old state or the new one,
 * never a torn file (the temporary has a name no reader takes for a state file).
 */
export async function writeState(dir: string, state: RankState): Promise<void> {
  const path = join(dir, stateFileName(state.rank));
  const tmp = `${path}.tmp`;
  const handle = await open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(JSON.stringify(state));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, path);
  const folder = await open(dir, 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
}

export async function readState(dir: string, rank: number): Promise<RankState | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, stateFileName(rank)), 'utf8')) as RankState;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Every state file below `dir` (any depth: a report's staging folder holds one folder per cell repeat). */
export async function stateFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && /^rank-\d+\.json$/.test(e.name)).map((e) => join(e.parentPath ?? e.path, e.name)).sort();
}
