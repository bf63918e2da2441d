import { runTransferPool } from '../transfers/transfer-pool.js';
import type { Executor } from './executor.js';

/** Transfers launched from this process, `concurrency` at a time (transfers/transfer-pool.ts). */
export const localExecutor: Executor = {
  run: ({ jobs, concurrency, policy, where, onRecord }) => runTransferPool(jobs, concurrency, policy, where, onRecord),
};
