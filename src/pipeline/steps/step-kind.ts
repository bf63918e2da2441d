import type { LimitFunction } from 'p-limit';
import type { DatasetEntry } from '../../dataset/dataset.js';
import type { TransferRecord } from '../../records/transfer-record.js';
import type { StepName, StepRecord } from '../../records/pipeline-records.js';
import type { PipelineSpec, StageSpec } from '../pipeline-spec.js';
import type { Lane } from '../../transfers/lane.js';
import type { TransferPolicy } from '../../transfers/run-transfer.js';
import type { ComputeSpec } from '../compute/registry.js';
import type { ExpectedFile, StagingPaths } from '../layout.js';
import type { RankRun } from '../state-file.js';

/** A stage step's settings for one cell repeat, shared by every rank. */
export interface StageRuntime {
  spec: StageSpec;
  /** The host at the other end (stage_in's from, stage_out's to). */
  host: string;
  /** Its folder when it is not on this machine (an external stage-in host's inputs, placed over SFTP). */
  dir?: string;
  lane: Pick<Lane, 'remote' | 'ssh'>;
  /** Bounds the step's invocations in flight over all ranks. */
  limit: LimitFunction;
  policy: TransferPolicy;
}

/** One cell repeat of a pipeline, as every step of every rank sees it. */
export interface PipelineRepeat {
  cell: string;
  repeat: number;
  spec: PipelineSpec;
  /** The dataset's seed: a compute builtin's choices (which ranks fail) follow it. */
  seed: number;
  paths: StagingPaths;
  /** Folder for invocation file lists (short, private to the run). */
  controlDir: string;
  stages: Partial<Record<'stage_in' | 'stage_out', StageRuntime>>;
  compute: ComputeSpec | undefined;
  /** Per rank: its inputs, and what it must deliver. */
  inputs: readonly (readonly ExpectedFile[])[];
  outputs: readonly (readonly ExpectedFile[])[];
  clock: () => number;
  signal?: AbortSignal;
  onTransfer(record: TransferRecord): void;
  /** Files an invocation reported done that did not arrive whole (found where each landed). */
  silentDrops: string[];
}


export type StepResult = Pick<StepRecord, 'status' | 'files' | 'bytes'> & Partial<Pick<StepRecord, 'invocations' | 'failure_class' | 'reason'>>;

/** What one step does for one rank; the order and the dependencies between steps are rank.ts's. */
export interface StepKind {
  /** The pipeline has this step. */
  present(spec: PipelineSpec): boolean;
  run(p: PipelineRepeat, rank: RankRun, context: { failed?: StepName }): Promise<StepResult>;
  /**
   * For a step the state file says was running when the run stopped: its outcome, if the step
   * itself recorded that it ended (the harness died before saving the state), so it is not run
   * twice. Undefined: it did not end, run it again.
   */
  ended?(p: PipelineRepeat, rank: RankRun): Promise<StepResult | undefined>;
}

export const asEntry = (f: ExpectedFile): DatasetEntry => ({ path: f.path, size: f.size, seed: f.input.seed });
