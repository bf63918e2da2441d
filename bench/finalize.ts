import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { sourceMetadata } from '../src/pipeline/commit.js';
import { finalizeStates } from '../src/pipeline/finalize.js';
import type { RankState } from '../src/pipeline/state-file.js';
import { againstCp, type Yardsticks } from './yardsticks.js';

type Row = (benchmark: string, result: string, target: string, ok: boolean | undefined) => void;

/**
 * `xferbench finalize` over N rank state files, the checkpoint library's full-system case
 * (16,384 ranks, each flushing timestep.0/data.R under a temporary name): set up as a run that
 * stopped before finalize leaves it, then finalized (rename + metadata per file, one atomic state
 * rewrite per rank), then finalized again (idempotent: reads only).
 */
export async function finalizeBench(dir: string, sizes: readonly number[], y: Yardsticks, row: Row): Promise<void> {
  const times = new Map<number, number>();
  for (const ranks of sizes) {
    const root = join(dir, `finalize-${ranks}`);
    const src = join(root, 'workers');
    const out = join(root, 'outputs');
    const state = join(root, 'state');
    const tempRoot = join(out, '.xb-partial');
    await Promise.all([mkdir(src, { recursive: true }), mkdir(join(out, 'timestep.0'), { recursive: true }), mkdir(join(tempRoot, 'timestep.0'), { recursive: true }), mkdir(state, { recursive: true })]);
    for (let r = 0; r < ranks; r += 256) {
      await Promise.all(
        Array.from({ length: Math.min(256, ranks - r) }, async (_, i) => {
          const rank = r + i;
          const source = join(src, `data.${rank}`);
          await writeFile(source, 'x'.repeat(1024));
          const temp = join(tempRoot, 'timestep.0', `data.${rank}`);
          await writeFile(temp, 'x'.repeat(1024));
          const s: RankState = {
            version: 2, cell: 'default', repeat: 1, rank, steps: { stage_out: { status: 'ok', record: { step: 'stage_out', status: 'ok', start_ms: 0, end_ms: 1, files: 1, bytes: 1024 } } }, temp_roots: [tempRoot],
            files: [{ step: 'stage_out', source, temp, final: join(out, 'timestep.0', `data.${rank}`), ...(await sourceMetadata(source)), status: 'landed' }],
          };
          // As writeState stores it: paths relative to the cell repeat's folder.
          const rel = (p: string) => relative(root, p);
          s.files = s.files.map((f) => ({ ...f, source: rel(f.source), temp: rel(f.temp), final: rel(f.final) }));
          s.temp_roots = s.temp_roots.map(rel);
          await writeFile(join(state, `rank-${rank}.json`), JSON.stringify(s));
        }),
      );
    }
    const t0 = performance.now();
    const done = await finalizeStates(root);
    const first = performance.now() - t0;
    const t1 = performance.now();
    const again = await finalizeStates(root);
    const second = performance.now() - t1;
    const finalized = done.reduce((n, d) => n + d.finalized, 0);
    const redone = again.reduce((n, d) => n + d.finalized + d.removed, 0);
    times.set(ranks, first);
    const target = ranks >= 16_384 ? 'under 10 s at 16,384' : '';
    row(
      `finalize: ${ranks} rank state files`,
      `${finalized}/${ranks} committed in ${(first / 1000).toFixed(2)} s (${((first * 1000) / ranks).toFixed(0)} µs/rank, ${againstCp(y, first / ranks)}); again: ${redone} changes in ${(second / 1000).toFixed(2)} s`,
      target,
      finalized === ranks && redone === 0 && (ranks < 16_384 || first < 10_000),
    );
    await rm(root, { recursive: true, force: true });
  }
  const [small, large] = [Math.min(...sizes), Math.max(...sizes)];
  if (small !== large) row(`finalize: scaling ${small} -> ${large} ranks`, `${(times.get(large)! / times.get(small)!).toFixed(1)}x the time for ${large / small}x the ranks`, 'linear', undefined);
}
