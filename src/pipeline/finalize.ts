import { readFile, rm, rmdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import pLimit from 'p-limit';
import { commitFile, discardFile } from './commit.js';
import { stateFiles, writeState, type FileState, type RankState } from './state-file.js';

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
}

/** Files whose state finalize acts on, and what it makes of them. */
async function finalizeFile(f: FileState): Promise<FileState> {
  if (f.status === 'landed') {
    const g = await commitFile(f);
    // A file that cannot be committed (its size is wrong) is no better than an unfinished one.
    return g.status === 'error' ? { ...(await discardFile(g)), error: g.error! } : g;
  }
  if (f.status === 'pending' || f.status === 'inprog' || f.status === 'error') return discardFile(f);
  return f;
}

/**
 * Finishes what a run left (the checkpoint library's post-stage finalize): completes rename and
 * metadata for every landed file, deletes the temporaries of failed or unfinished ones and then
 * each rank's temporary folder. Each state file is rewritten atomically; running it again finds
 * nothing to do. State files are independent, so they are processed many at once.
 */
export async function finalizeStates(dir: string, concurrency = 32): Promise<RankFinalize[]> {
  const limit = pLimit(concurrency);
  const files = await stateFiles(dir);
  const done = await Promise.all(
    files.map((file) =>
      limit(async () => {
        const state = JSON.parse(await readFile(file, 'utf8')) as RankState;
        const out: RankFinalize = { file, cell: state.cell, repeat: state.repeat, rank: state.rank, finalized: 0, removed: 0, unchanged: 0, errors: [] };
        const next: FileState[] = [];
        for (const f of state.files) {
          const g = await finalizeFile(f);
          if (g.status === 'final' && f.status !== 'final') out.finalized++;
          else if (g.status === 'removed' && f.status !== 'removed') out.removed++;
          else if (g === f) out.unchanged++;
          if (g.error !== undefined && g !== f) out.errors.push(`${g.final}: ${g.error}`);
          next.push(g);
        }
        if (next.some((g, i) => g !== state.files[i])) await writeState(dirname(file), { ...state, files: next });
        // Whatever else is in a temporary folder (a killed rsync's own temporaries) goes with it.
        if (!next.some((g) => g.status === 'landed')) for (const root of state.temp_roots) await removeTempRoot(root);
        return out;
      }),
    ),
  );
  return done.sort((a, b) => a.cell.localeCompare(b.cell) || a.repeat - b.repeat || a.rank - b.rank);
}

/** A rank's temporary folder, and the .xb-partial above it once no rank has one there. */
export async function removeTempRoot(root: string): Promise<void> {
  await rm(root, { recursive: true, force: true });
  await rmdir(dirname(root)).catch(() => undefined);
}
