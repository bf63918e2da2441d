import { rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { discardFile, removeRankTemps } from '../commit.js';
import type { StepKind, StepResult } from './step-kind.js';

async function removeFile(path: string): Promise<boolean> {
  try {
    await rm(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * afternotok: after a failed step, a rank leaves nothing half-done. Its temporaries go, its
 * worker folders go (compute.log stays: it is the record of what ran), and any output it already
 * delivered goes too, so the destination holds all of a rank's outputs or none of them.
 */
export const cleanupStep: StepKind = {
  present: (spec) => spec.on_failure === 'cleanup',
  async run(p, r, { failed }): Promise<StepResult> {
    let removed = 0;
    r.state.files = r.state.files.map((f) => (f.status === 'final' || f.status === 'removed' ? f : discardFile(f)));
    for (const root of r.state.temp_roots) removeRankTemps(root, r.state.files.filter((f) => f.temp.startsWith(`${root}/`)).map((f) => relative(root, f.temp)));
    const out = p.stages.stage_out;
    if (out) {
      for (const f of p.outputs[r.rank]!) if (await removeFile(join(p.paths.outputs(out.host), f.path))) removed++;
      r.state.files = r.state.files.map((f) => (f.step === 'stage_out' && f.status === 'final' ? { ...f, status: 'removed' } : f));
    }
    const worker = p.paths.worker(r.rank);
    await rm(worker.in, { recursive: true, force: true });
    await rm(worker.out, { recursive: true, force: true });
    await r.save();
    const why = r.state.steps[failed!];
    const cls = why && why.status !== 'running' ? why.record.failure_class : undefined;
    return { status: 'ok', files: removed, bytes: 0, reason: `${failed} failed${cls ? ` (${cls})` : ''}; removed ${removed} delivered output(s), the rank's temporaries and worker folders` };
  },
};
