import type { StepName, StepRecord } from '../records/transfer-record.js';
import { STEP_REGISTRY } from './steps/registry.js';
import type { PipelineRepeat, RankRun } from './steps/step-kind.js';

/** The steps a rank runs in order; each depends (afterok) on the one before it. */
const CHAIN: readonly StepName[] = ['stage_in', 'compute', 'stage_out'];

/**
 * What happens to one rank, with a batch scheduler's semantics: a step runs only after the one
 * before it succeeded (afterok); after a failure the rest are `skipped`, naming the step they
 * waited on, and cleanup runs (afternotok) when on_failure asks for it. Every step's outcome is
 * saved in the rank's state file before it is recorded, so a resumed run never redoes a
 * finished step; a step found `running` was interrupted and runs again.
 */
export async function runRank(p: PipelineRepeat, r: RankRun, record: (step: Omit<StepRecord, 'type' | 'cell' | 'repeat' | 'rank'>) => void): Promise<void> {
  let failed: StepName | undefined;
  // What a skipped step waited on: the step before it, as its afterok dependency names it.
  let previous: StepName | undefined;
  for (const name of CHAIN) {
    const kind = STEP_REGISTRY[name];
    if (!kind.present(p.spec)) continue;
    const dependency = previous;
    previous = name;
    const before = r.state.steps[name];
    if (before && before.status !== 'running') {
      if (before.status === 'failed') failed = name;
      continue;
    }
    const t = p.clock();
    if (failed) {
      r.state.steps[name] = { status: 'skipped', waited_on: dependency! };
      await r.save();
      record({ step: name, status: 'skipped', start_ms: t, end_ms: t, files: 0, bytes: 0, waited_on: dependency! });
      continue;
    }
    r.state.steps[name] = { status: 'running' };
    await r.save();
    const result = await kind.run(p, r, {});
    // Interrupted: the state stays `running`, so a resumed run does this step again.
    if (p.signal?.aborted) return;
    r.state.steps[name] = { status: result.status === 'ok' ? 'ok' : 'failed', ...(result.failure_class ? { failure_class: result.failure_class } : {}) };
    await r.save();
    record({ step: name, start_ms: t, end_ms: p.clock(), ...result });
    if (result.status !== 'ok') failed = name;
  }
  const cleanup = STEP_REGISTRY.cleanup;
  if (!failed || !cleanup.present(p.spec) || r.state.steps.cleanup?.status === 'ok') return;
  const t = p.clock();
  r.state.steps.cleanup = { status: 'running' };
  await r.save();
  const result = await cleanup.run(p, r, { failed });
  if (p.signal?.aborted) return;
  r.state.steps.cleanup = { status: 'ok' };
  await r.save();
  record({ step: 'cleanup', start_ms: t, end_ms: p.clock(), ...result });
}
