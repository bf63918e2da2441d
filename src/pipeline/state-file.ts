import { closeSync, fsync, openSync, renameSync, writeFileSync } from 'node:fs';
import { open, readFile, readdir } from 'node:fs/promises';
import { promisify } from 'node:util';
import { join } from 'node:path';
import type { StepName, StepRecord } from '../records/transfer-record.js';
import type { RankRun } from './steps/step-kind.js';

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

/** A step's record without what the rank's state file already says (cell, repeat, rank). */
export type StepBody = Omit<StepRecord, 'type' | 'cell' | 'repeat' | 'rank'>;

/**
 * `running`, or ended with the record it gets in results.jsonl: saved here first, so a run killed
 * between the two still has it, and `resume` writes what results.jsonl lacks.
 */
export type StepState = { status: 'running' } | { status: StepRecord['status']; record: StepBody };

/** One rank's state: what its steps reached and every committed file. Rewritten whole, atomically. */
export interface RankState {
  version: 1;
  cell: string;
  repeat: number;
  rank: number;
  steps: Partial<Record<StepName, StepState>>;
  files: FileState[];
  /** Each committing step's temporary folder for this rank: removed whole once nothing in it is landed. */
  temp_roots: string[];
}

const fsyncAsync = promisify(fsync);

export const stateFileName = (rank: number) => `rank-${rank}.json`;

/**
 * write + fsync + rename + fsync of the folder: a crash leaves the old state or the new one,
 * never a torn file (the temporary has a name no reader takes for a state file). Many writes
 * in a row may leave the folder's fsync to one syncFolder() after them (`syncDir: false`).
 */
export async function writeState(dir: string, state: RankState, options: { syncDir?: boolean } = {}): Promise<void> {
  const path = join(dir, stateFileName(state.rank));
  const tmp = `${path}.tmp`;
  // Only the fsync waits on the disk and goes to the thread pool; the rest is cheaper inline.
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeFileSync(fd, JSON.stringify(state));
    await fsyncAsync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  if (options.syncDir !== false) await syncFolder(dir);
}

/** Makes the renames in a folder durable. */
export async function syncFolder(dir: string): Promise<void> {
  const folder = await open(dir, 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
}

/**
 * A rank's state in `dir`, saved one write at a time in order, so the file on disk is always the
 * latest whole state (steps/step-kind.ts RankRun).
 */
export function rankRun(dir: string, rank: number, state: RankState): RankRun {
  let saving = Promise.resolve();
  const run: RankRun = { rank, state, save: () => (saving = saving.then(() => writeState(dir, run.state))) };
  return run;
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
