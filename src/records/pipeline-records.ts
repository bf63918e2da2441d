/** A pipeline's own records: each rank's steps, and the invariants checked after a repeat. */

/** The steps of a pipeline rank, in order; cleanup runs only after a failed one (afternotok). */
export const STEP_NAMES = ['stage_in', 'compute', 'stage_out', 'cleanup'] as const;
export type StepName = (typeof STEP_NAMES)[number];

/**
 * One step of one rank. `skipped`: a step it depends on did not succeed (`waited_on` names it),
 * as a batch scheduler removes an afterok job. Failures are data: `failure_class` says why.
 */
export interface StepRecord {
  type: 'step';
  cell: string;
  repeat: number;
  rank: number;
  step: StepName;
  status: 'ok' | 'failed' | 'skipped';
  start_ms: number;
  end_ms: number;
  /** Files the step moved, wrote or removed, and their bytes. */
  files: number;
  bytes: number;
  /** Stage steps: tool invocations (connections) it took. */
  invocations?: number;
  /** A failure class of the transfers, or silent_drop, compute_failed, commit_failed, interrupted. */
  failure_class?: string;
  waited_on?: StepName;
  /** cleanup: the step whose failure it follows, and what it found. */
  reason?: string;
  /** executor: slurm — the step's batch job, the node it ran on, and its --dependency as submitted. */
  job_id?: string;
  node?: string;
  dependency?: string;
}

/** A pipeline invariant that did not hold after a cell repeat (or after `xferbench finalize`). */
export interface InvariantViolation {
  /** 1 final paths complete or empty, 2 no temporary left, 3 metadata of committed files, 4 every rank accounted for. */
  invariant: 1 | 2 | 3 | 4;
  path: string;
  detail: string;
}

export interface InvariantsRecord {
  type: 'invariants';
  cell: string;
  repeat: number;
  /** Ranks by final state: every step ok, a step failed, or failed and cleaned up. */
  ranks: { ok: number; failed: number; cleaned: number };
  /** Temporaries left on purpose for `xferbench finalize` (finalize: defer). */
  pending_finalize: number;
  violations: InvariantViolation[];
}
