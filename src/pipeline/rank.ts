import type { StepName } from '../records/transfer-record.js';
import type { StepBody } from './state-file.js';
import { STEP_REGISTRY } from './steps/registry.js';
import type { PipelineRepeat, RankRun, StepResult } from './steps/step-kind.js';

/** The steps a rank runs in order; each depends (afterok) on the one before it. */
const CHAIN: readonly StepName[] = ['stage_in', 'compute', 'stage_out'];

/**
 * What happens to one rank, with a batch scheduler's semantics: a step runs only after the one
 * before it succeeded (afterok); after a failure the rest are `skipped`, naming the step they
 * waited on, and cleanup runs (afternotok) when on_failure asks for it. Every step's outcome is
 * saved in the rank's state file before it is recorded, so a resumed run never redoes a
 * finished step; a step found `running` was interrupted and runs again.
 */
export async function runRank(p: PipelineRepeat, r: RankRun, record: (step: StepBody) => void, recorded: ReadonlySet<StepName> = new Set()): Promise<void> {
  /** Saved, then recorded: the state file is the truth, results.jsonl its log. */
  const end = async (name: StepName, body: StepBody) => {
    r.state.steps[name] = { status: body.status, record: body };
    await r.save();
    record(body);
  };
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
      // Ended before an interruption: not run again; its record, if the kill lost it, written now.
      if (!recorded.has(name)) record(before.record);
      if (before.status === 'failed') failed = name;
      continue;
    }
    const t = p.clock();
    if (failed) {
      await end(name, { step: name, status: 'skipped', start_ms: t, end_ms: t, files: 0, bytes: 0, waited_on: dependency! });
      continue;
    }
    // Ended before the harness could save that it did: take its outcome instead of running it twice.
    const ended = before?.status === 'running' ? await kind.ended?.(p, r) : undefined;
    let result: StepResult | undefined = ended ? { ...ended, reason: 'ended before the run was interrupted; recorded when resumed' } : undefined;
    if (!result) {
      r.state.steps[name] = { status: 'running' };
      await r.save();
      result = await kind.run(p, r, {});
    }
    // Interrupted: the state stays `running`, so a resumed run does this step again.
    if (p.signal?.aborted) return;
    await end(name, { step: name, start_ms: t, end_ms: p.clock(), ...result });
    if (result.status !== 'ok') failed = name;
  }
  const cleanup = STEP_REGISTRY.cleanup;
  const done = r.state.steps.cleanup;
  if (done && done.status !== 'running') {
    if (!recorded.has('cleanup')) record(done.record);
    return;
  }
  if (!failed || !cleanup.present(p.spec)) return;
  const t = p.clock();
  r.state.steps.cleanup = { status: 'running' };
  await r.save();
  const result = await cleanup.run(p, r, { failed });
  if (p.signal?.aborted) return;
  await end('cleanup', { step: 'cleanup', start_ms: t, end_ms: p.clock(), ...result });
}
