import type { QueueControl } from '../faults/fault-kind.js';
import type { PipelineJobContext } from '../pipeline/job-context.js';
import type { StepBody } from '../pipeline/state-file.js';
import type { PipelineRepeat } from '../pipeline/steps/step-kind.js';
import type { RankRun } from '../pipeline/state-file.js';
import type { TransferRecord } from '../records/transfer-record.js';
import type { StepName } from '../records/pipeline-records.js';
import type { TransferSpec } from '../transfers/transfer-spec.js';
import type { TransferPolicy } from '../transfers/run-transfer.js';
import type { TransferJob } from '../transfers/transfer-tool.js';

/** What a cell repeat hands an executor: its jobs, how many at once, and how each runs. */
export interface ExecutorRun {
  jobs: readonly TransferJob[];
  concurrency: number;
  policy: TransferPolicy;
  /** The cell's transfer as the scenario gives it (a remote worker makes its tool from it). */
  transfer: TransferSpec;
  where: { cell: string; repeat: number };
  /** A folder of this run for the executor's own files (job lists, per-task records). */
  workDir: string;
  onRecord?: (record: TransferRecord) => void;
}

/** What a pipeline cell repeat hands an executor: every rank, each to go through rank.ts's chain. */
export interface RanksRun {
  p: PipelineRepeat;
  ranks: readonly RankRun[];
  /** Writes a step's record to results.jsonl. */
  record(rank: number, step: StepBody): void;
  /** Steps of a rank whose record results.jsonl already has (a resumed repeat). */
  recorded(rank: number): ReadonlySet<StepName>;
  /** What a process elsewhere needs to run one step of one rank (pipeline/job-context.ts). */
  job: PipelineJobContext;
  /** A step started (faults with `at: "N%"` count them). */
  onStepStart?(): void;
}

/**
 * Where a cell's transfers are launched: in this process (`local`), or fanned out over the
 * nodes of a Slurm cluster (`slurm`). Every executor returns the same records, so verification
 * and reports do not know which ran them; a pipeline's ranks likewise write the same state files
 * and records whether their steps ran here or as batch jobs.
 */
export interface Executor {
  run(input: ExecutorRun): Promise<TransferRecord[]>;
  ranks(input: RanksRun): Promise<void>;
  /** The job queue a `queue_loss` fault empties; executors without one have none. */
  queue?: QueueControl;
  /** Its commands are started by this process's launcher (whose CPU the cell's load readings follow). */
  launchesHere?: boolean;
}
