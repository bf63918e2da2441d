import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { planRankJobs } from '../../src/executors/slurm/slurm-ranks.js';
import type { RankState, StepState } from '../../src/pipeline/state-file.js';
import { pipelineSchema } from '../../src/pipeline/pipeline-spec.js';

const spec = pipelineSchema.parse({ ranks: 2, stage_in: { from: 'u' }, compute: { run: 'transform' }, stage_out: { to: 'u' }, on_failure: 'cleanup' });
const ended = (step: string, status: 'ok' | 'failed' | 'skipped'): StepState => ({ status, record: { step: step as never, status, start_ms: 0, end_ms: 1, files: 0, bytes: 0 } });
const plan = (steps: RankState['steps'], s = spec) => planRankJobs(s, { steps });

describe('Slurm jobs of a rank (V1)', () => {
  it('a fresh rank: stage-in, then afterok chains, cleanup afternotok on any of them', () => {
    assert.deepEqual(plan({}), {
      submit: [
        { step: 'stage_in' },
        { step: 'compute', after: { kind: 'afterok', step: 'stage_in' } },
        { step: 'stage_out', after: { kind: 'afterok', step: 'compute' } },
        { step: 'cleanup', after: { kind: 'afternotok', steps: ['stage_in', 'compute', 'stage_out'] } },
      ],
      skip: [],
    });
  });

  it('resumed: what ended is not submitted again; a step after one that ended ok has no dependency; a step found running runs again', () => {
    assert.deepEqual(plan({ stage_in: ended('stage_in', 'ok'), compute: { status: 'running' } }), {
      submit: [
        { step: 'compute' },
        { step: 'stage_out', after: { kind: 'afterok', step: 'compute' } },
        { step: 'cleanup', after: { kind: 'afternotok', steps: ['compute', 'stage_out'] } },
      ],
      skip: [],
    });
  });

  it('resumed after a recorded failure: the rest is skipped now and cleanup runs at once; a rank that finished submits nothing', () => {
    assert.deepEqual(plan({ stage_in: ended('stage_in', 'failed') }), { submit: [{ step: 'cleanup' }], skip: [{ step: 'compute', waited_on: 'stage_in' }, { step: 'stage_out', waited_on: 'compute' }] });
    assert.deepEqual(plan({ stage_in: ended('stage_in', 'failed'), compute: ended('compute', 'skipped'), stage_out: ended('stage_out', 'skipped'), cleanup: ended('cleanup', 'ok') }), { submit: [], skip: [] });
    assert.deepEqual(plan({ stage_in: ended('stage_in', 'ok'), compute: ended('compute', 'ok'), stage_out: ended('stage_out', 'ok') }), { submit: [], skip: [] });
  });

  it('without on_failure: cleanup, no cleanup job; a pipeline without compute chains stage-out on stage-in', () => {
    const bare = pipelineSchema.parse({ ranks: 1, stage_in: { from: 'u' }, stage_out: { to: 'u' } });
    assert.deepEqual(plan({}, bare), { submit: [{ step: 'stage_in' }, { step: 'stage_out', after: { kind: 'afterok', step: 'stage_in' } }], skip: [] });
  });
});
