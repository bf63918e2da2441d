import type { StepName } from '../records/pipeline-records.js';
import type { StepBody } from './state-file.js';
import { STEP_REGISTRY } from './steps/registry.js';
import type { PipelineRepeat, StepResult } from './steps/step-kind.js';
import type { RankRun } from './state-file.js';

/** The steps a rank runs in order; each depends (afterok) on the one before it. */
export const CHAIN: readonly StepName[] = ['stage_in', 'compute', 'stage_out'];

/**
 * One step of one rank, wherever it runs (this process, or a Slurm job): the outcome the step
 * itself recorded if it ended before the harness could save it (not run twice), else run now.
 * `running` is saved before it starts and the ended state, with its record, after: a state file
 * is always the truth. Undefined when interrupted (the state stays `running`: done again on resume).
 */
export async function runStep(p: PipelineRepeat, r: RankRun, name: StepName, context: { failed?: StepName } = {}, extra: Partial<StepBody> = {}): Promise<StepBody | undefined> {
  const kind = STEP_REGISTRY[name];
  const t = p.clock();
  const ended = r.state.steps[name]?.status === 'running' ? await kind.ended?.(p, r) : undefined;
  let result: StepResult | undefined = ended ? { ...ended, reason: 'ended before the run was interrupted; recorded when resumed' } : undefined;
  if (!result) {
    r.state.steps[name] = { status: 'running' };
    await r.save();
    result = await kind.run(p, r, context);
  }
  if (p.signal?.aborted) return undefined;
  const body: StepBody = { step: name, start_ms: t, end_ms: p.clock(), ...result, ...extra };
  await saveEnd(r, body);
  return body;
}

/** A step's end in the rank's state file, with the record it gets. */
async function saveEnd(r: RankRun, body: StepBody): Promise<void> {
  r.state.steps[body.step] = { status: body.status, record: body };
  await r.save();
}

/** Saved, then recorded: the state file is the truth, results.jsonl its log. */
export async function endStep(r: RankRun, body: StepBody, record: (step: StepBody) => void): Promise<void> {
  await saveEnd(r, body);
  record(body);
}

/** A step that does not run: the one it waited on did not succeed (or, for cleanup, nothing failed). */
export const skippedStep = (step: StepName, t: number, waitedOn: StepName | undefined, extra: Partial<StepBody> = {}): StepBody => ({
  step, status: 'skipped', start_ms: t, end_ms: t, files: 0, bytes: 0, ...(waitedOn ? { waited_on: waitedOn } : {}), ...extra,
});

/** Records of the steps that ended before an interruption, unless results.jsonl has them (a kill lost them). */
export function recordEnded(r: RankRun, record: (step: StepBody) => void, recorded: ReadonlySet<StepName>): void {
  for (const step of [...CHAIN, 'cleanup'] as const) {
    const s = r.state.steps[step];
    if (s && s.status !== 'running' && !recorded.has(step)) record(s.record);
  }
}

/** The first step of the chain that did not succeed (what cleanup follows), if any. */
export function firstFailure(r: RankRun): StepName | undefined {
  return CHAIN.find((name) => {
    const s = r.state.steps[name];
    return s !== undefined && s.status !== 'ok' && s.status !== 'skipped';
  });
}

/**
 * What happens to one rank, with a batch scheduler's semantics: a step runs only after the one
 * before it succeeded (afterok); after a failure the rest are `skipped`, naming the step they
 * waited on, and cleanup runs (afternotok) when on_failure asks for it. Every step's outcome is
 * saved in the rank's state file before it is recorded, so a resumed run never redoes a
 * finished step; a step found `running` was interrupted and runs again.
 */
export async function runRank(p: PipelineRepeat, r: RankRun, record: (step: StepBody) => void, recorded: ReadonlySet<StepName> = new Set()): Promise<void> {
  recordEnded(r, record, recorded);
  let failed: StepName | undefined;
  // What a skipped step waited on: the step before it, as its afterok dependency names it.
  let previous: StepName | undefined;
  for (const name of CHAIN) {
    if (!STEP_REGISTRY[name].present(p.spec)) continue;
    const dependency = previous;
    previous = name;
    const before = r.state.steps[name];
    if (before && before.status !== 'running') {
      // Ended before an interruption: not run again.
      if (before.status === 'failed') failed = name;
      continue;
    }
    if (failed) {
      await endStep(r, skippedStep(name, p.clock(), dependency), record);
      continue;
    }
    const body = await runStep(p, r, name);
    // Interrupted: the state stays `running`, so a resumed run does this step again.
    if (!body) return;
    record(body);
    if (body.status !== 'ok') failed = name;
  }
  const done = r.state.steps.cleanup;
  if ((done && done.status !== 'running') || !failed || !STEP_REGISTRY.cleanup.present(p.spec)) return;
  const body = await runStep(p, r, 'cleanup', { failed });
  if (body) record(body);
}
