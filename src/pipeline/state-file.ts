import { closeSync, constants, fsync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { open, readdir } from 'node:fs/promises';
import { promisify } from 'node:util';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import * as z from 'zod';
import { confined, readCapped, REPORT_CAPS, ReportFolderError, schemaProblem } from '../records/report-folder.js';
import { stepFields } from '../records/record-schema.js';
import { STEP_NAMES, type StepName, type StepRecord } from '../records/pipeline-records.js';

/**
 * A committed file's life, as a checkpoint library records it: `pending` (planned), `inprog`
 * (an invocation is moving it), `landed` (complete under its temporary name), `final` (renamed
 * into place, metadata applied), `error` (failed; its temporary must go), `removed` (temporary
 * or output deleted by finalize or cleanup).
 */
export type FileStatus = 'pending' | 'inprog' | 'landed' | 'final' | 'error' | 'removed';

export interface FileState {
  step: 'stage_in' | 'stage_out';
  /**
   * Absolute paths on this machine (both backends keep host folders here). The state file keeps
   * them relative to the cell repeat's folder (the state folder's parent), and reading resolves
   * them there: a path that leaves it, or runs through a link, is refused.
   */
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
  /** 2: paths relative to the cell repeat's folder. */
  version: 2;
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
  // A temporary left at the name (or a link planted there) is removed, never written through.
  rmSync(tmp, { force: true });
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    writeFileSync(fd, JSON.stringify(storedState(dirname(resolve(dir)), state)));
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

/** Rank `rank`'s state in the state folder `dir`; undefined when it has none yet. */
export async function readState(dir: string, rank: number): Promise<RankState | undefined> {
  const state = await readStateFile(join(dir, stateFileName(rank)), dirname(resolve(dir)));
  if (state && state.rank !== rank) throw new ReportFolderError(`${join(dir, stateFileName(rank))}: holds rank ${state.rank}`);
  return state;
}

const relPath = z.string().min(1).max(4096);
const nanoseconds = z.string().regex(/^-?\d{1,20}$/, 'expected nanoseconds as a whole number');
const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.number().int().min(min).max(max);
const stepState = z.union([z.object({ status: z.literal('running') }).strict(), z.object({ status: z.enum(['ok', 'failed', 'skipped']), record: z.object(stepFields) }).strict()]);
/** A state file as stored: what a reader from elsewhere must find in it, checked before anything acts on it. */
const storedStateSchema = z
  .object({
    version: z.literal(2, { error: 'a rank state file of version 2 (paths relative to its cell repeat folder); an older xferbench wrote this one' }),
    cell: z.string().max(4096),
    repeat: int(1),
    rank: int(0),
    steps: z.object(Object.fromEntries(STEP_NAMES.map((s) => [s, stepState.optional()])) as Record<StepName, z.ZodOptional<typeof stepState>>).strict(),
    files: z.array(
      z
        .object({
          step: z.enum(['stage_in', 'stage_out']),
          source: relPath,
          temp: relPath,
          final: relPath,
          size: int(0),
          mode: int(0, 0o7777),
          uid: int(0, 2 ** 32 - 1),
          gid: int(0, 2 ** 32 - 1),
          atime_ns: nanoseconds,
          mtime_ns: nanoseconds,
          status: z.enum(['pending', 'inprog', 'landed', 'final', 'error', 'removed']),
          error: z.string().max(4096).optional(),
        })
        .strict(),
    ),
    temp_roots: z.array(relPath),
  })
  .strict();

const PATHS = ['source', 'temp', 'final'] as const;

/** The state with its paths relative to `root`, the cell repeat's folder, as it is stored. */
function storedState(root: string, state: RankState): RankState {
  const rel = (p: string) => {
    const r = relative(root, p);
    if (r === '' || isAbsolute(r) || r === '..' || r.startsWith(`..${sep}`)) throw new Error(`internal: ${p} is outside the cell repeat folder ${root}`);
    return r;
  };
  return { ...state, files: state.files.map((f) => ({ ...f, source: rel(f.source), temp: rel(f.temp), final: rel(f.final) })), temp_roots: state.temp_roots.map(rel) };
}

/**
 * A state file, read as input from elsewhere: at most REPORT_CAPS.state bytes, no link followed,
 * checked against its schema, and every path resolved in its cell repeat's folder (the state
 * folder's parent) and inside `within`, through no link. Anything else is refused with the file
 * named (ReportFolderError); undefined when the file does not exist. `known`: folders already
 * checked (confined()), for many state files in a row.
 */
export async function readStateFile(file: string, within: string, known?: Set<string>): Promise<RankState | undefined> {
  const buffer = readCapped(file, REPORT_CAPS.state);
  if (!buffer) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(buffer.toString('utf8'));
  } catch (e) {
    throw new ReportFolderError(`${file}: not JSON (${(e as Error).message.slice(0, 120)})`);
  }
  const parsed = storedStateSchema.safeParse(value);
  if (!parsed.success) throw new ReportFolderError(`${file}: ${schemaProblem(parsed.error)}`);
  const root = dirname(dirname(resolve(file)));
  const base = resolve(within);
  const inside = (rel: string) => {
    const full = resolve(root, rel);
    const inRoot = relative(root, full);
    if (isAbsolute(rel) || inRoot === '' || inRoot === '..' || inRoot.startsWith(`..${sep}`)) throw new ReportFolderError(`${file}: the path ${JSON.stringify(rel.slice(0, 200))} leaves its cell repeat folder ${root}; nothing was done for this rank`);
    try {
      return confined(base, relative(base, full), known);
    } catch (e) {
      throw new ReportFolderError(`${file}: ${(e as Error).message}; nothing was done for this rank`);
    }
  };
  const s = parsed.data;
  const files = s.files.map((f) => ({ ...f, ...Object.fromEntries(PATHS.map((k) => [k, inside(f[k])])) }) as FileState);
  return { ...(s as RankState), files, temp_roots: s.temp_roots.map(inside) };
}

/** Every state file below `dir` (any depth: a report's staging folder holds one folder per cell repeat). */
export async function stateFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && /^rank-\d+\.json$/.test(e.name)).map((e) => join(e.parentPath ?? e.path, e.name)).sort();
}

/** One rank's state (state-file.ts), saved atomically after every change. */
export interface RankRun {
  rank: number;
  state: RankState;
  save(): Promise<void>;
}
