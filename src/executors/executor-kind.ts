import type { FieldIssue } from '../spec/fields.js';
import type * as z from 'zod';
import type { PipelineSpec } from '../pipeline/pipeline-spec.js';
import type { PathKey } from '../spec/object-path.js';
import type { ScenarioIssue } from '../util/errors.js';
import type { Executor } from './executor.js';

/** What an executor reads of a planned cell: its scenario (the executor's own section among the rest). */
export interface ExecutorCell {
  scenario: { executor: string; pipeline?: PipelineSpec } & Record<string, unknown>;
}

/** A scenario as written (before validation completes), for an executor's own checks. */
export type RawScenario = Record<string, unknown>;

/** What a run starts once for the cells of one executor (a Slurm cluster), disposed with the run. */
export interface ExecutorSetup extends AsyncDisposable {
  /** The executor of one of those cells. */
  forCell(cell: ExecutorCell): Executor;
  /** For the progress display. */
  notice?: string;
}

export interface ExecutorSetupOptions {
  /** The run's clock origin (epoch ms), for records written elsewhere. */
  originEpochMs: number;
  /** A resumed run's first job id (job ids stay unique within a report folder). */
  firstJobId?: number;
  signal?: AbortSignal;
}

/**
 * Where a cell's transfers (or a pipeline's steps) are launched, by the scenario's `executor`:
 * its own section of the scenario, its rules, its checks on this machine, and what it starts for a
 * run. One folder per executor, registered by name in executors/registry.ts; the scenario's schema
 * and every check are composed from these entries, so no other module names an executor.
 */
export interface ExecutorKind {
  /** The scenario section under the executor's name (`slurm: { nodes, … }`), when it has one. */
  readonly section?: z.ZodType;
  /** It has a job queue, which queue faults (queue_loss) act on. */
  readonly queue?: boolean;
  /** Why the transfers it launches cannot be paced from the run's process, when they cannot (spec/external-host.ts). */
  readonly launchesElsewhere?: string;
  /** How a pipeline's steps run under it, for `validate`. */
  readonly stepsNote?: string;
  /** Its rules against the raw scenario, for a scenario that names it. */
  check?(raw: RawScenario): FieldIssue[];
  /** Checks on this machine before anything starts (the cells are the run's cells of this executor). */
  preflight?(cells: readonly ExecutorCell[], issueAt: (path: readonly PathKey[], message: string) => ScenarioIssue): Promise<ScenarioIssue[]>;
  /** What the run's cells of this executor need, started once per run. */
  setUp(cells: readonly ExecutorCell[], stateDir: string, options: ExecutorSetupOptions): Promise<ExecutorSetup>;
}
