import type { TransferRecord } from '../records/transfer-record.js';
import type { TransferSpec } from '../scenario/scenario-schema.js';
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

/**
 * Where a cell's transfers are launched: in this process (`local`), or fanned out over the
 * nodes of a Slurm cluster (`slurm`). Every executor returns the same records, so verification
 * and reports do not know which ran them.
 */
export interface Executor {
  run(input: ExecutorRun): Promise<TransferRecord[]>;
}
