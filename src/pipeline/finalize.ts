import { rmSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import pLimit from 'p-limit';
import { ReportFolderError } from '../records/report-folder.js';
import { commitFile, discardFile } from './commit.js';
import { readStateFile, stateFiles, syncFolder, writeState, type FileState, type RankState } from './state-file.js';

export interface RankFinalize {
  file: string;
  cell: string;
  repeat: number;
  rank: number;
  /** Landed files renamed into place with their metadata. */
  finalized: number;
  /** Temporaries of failed or unfinished transfers deleted. */
  removed: number;
  /** Already final or removed by an earlier run: finalize is idempotent. */
  unchanged: number;
  errors: string[];
  /** The state file was refused (malformed, or naming a path outside or through a link): nothing was done for the rank. */
  refused?: true;
}

/** Files whose state finalize acts on, and what it makes of them. */
function finalizeFile(f: FileState): FileState {
  if (f.status === 'landed') {
    const g = commitFile(f);
    // A file that cannot be committed (its size is wrong) is no better than an unfinished one.
    return g.status === 'error' ? { ...discardFile(g), error: g.error! } : g;
  }
  if (f.status === 'pending' || f.status === 'inprog' || f.status === 'error') return discardFile(f);
  return f;
}

/**
 * One rank: its files committed or deleted; the state to save when anything changed. A state
 * file that is malformed, or names a path outside `within` or through a link, is refused: its
 * error is reported and nothing is done for its rank.
 */
async function finalizeRank(file: string, within: string, known: Set<string>): Promise<{ out: RankFinalize; state?: RankState; save?: RankState }> {
  let state: RankState;
  try {
    state = (await readStateFile(file, within, known))!;
  } catch (e) {
    if (!(e instanceof ReportFolderError)) throw e;
    const rank = Number(/^rank-(\d+)\.json$/.exec(basename(file))![1]);
    return { out: { file, cell: '(refused)', repeat: 0, rank, finalized: 0, removed: 0, unchanged: 0, errors: [e.message], refused: true } };
  }
  const out: RankFinalize = { file, cell: state.cell, repeat: state.repeat, rank: state.rank, finalized: 0, removed: 0, unchanged: 0, errors: [] };
  const next: FileState[] = [];
  for (const f of state.files) {
    const g = finalizeFile(f);
    if (g.status === 'final' && f.status !== 'final') out.finalized++;
    else if (g.status === 'removed' && f.status !== 'removed') out.removed++;
    else if (g === f) out.unchanged++;
    if (g.error !== undefined && g !== f) out.errors.push(`${g.final}: ${g.error}`);
    next.push(g);
  }
  return next.some((g, i) => g !== state.files[i]) ? { out, state, save: { ...state, files: next } } : { out, state };
}

/** State files per batch: their files are committed first, then their states written together. */
const BATCH = 1024;

/**
 * Finishes what a run left (the checkpoint library's post-stage finalize): completes rename and
 * metadata for every landed file and deletes the temporaries of failed or unfinished ones; then
 * the temporary folders, with whatever else is in them (a killed rsync's own temporaries), since
 * no rank has anything landed there any more. Each state file is rewritten atomically; running it
 * again finds nothing to do. Per batch of ranks the files are committed first (cheap calls on this
 * thread), then the states are written with their fsyncs in flight together. A crash between the
 * two leaves files committed under a `landed` state, which the next finalize recognises (commit.ts).
 * Nothing outside `dir` is touched: every path a state file names must resolve inside it.
 */
export async function finalizeStates(dir: string, concurrency = 64): Promise<RankFinalize[]> {
  const limit = pLimit(concurrency);
  const files = await stateFiles(dir);
  const roots = new Set<string>();
  const done: RankFinalize[] = [];
  // Folders found to be real ones (not links), checked once for all ranks.
  const known = new Set<string>();
  for (let i = 0; i < files.length; i += BATCH) {
    const batch = await Promise.all(files.slice(i, i + BATCH).map(async (file) => ({ file, ...(await finalizeRank(file, dir, known)) })));
    await Promise.all(batch.flatMap(({ file, save }) => (save ? [limit(() => writeState(dirname(file), save, { syncDir: false }))] : [])));
    // The renames of the state files are made durable once per folder and batch.
    for (const folder of new Set(batch.filter((b) => b.save).map((b) => dirname(b.file)))) await syncFolder(folder);
    for (const b of batch) for (const root of b.state?.temp_roots ?? []) roots.add(root);
    done.push(...batch.map((b) => b.out));
  }
  for (const root of roots) rmSync(root, { recursive: true, force: true });
  return done.sort((a, b) => a.cell.localeCompare(b.cell) || a.repeat - b.repeat || a.rank - b.rank);
}
