import { runRank } from '../pipeline/rank.js';
import { runTransferPool } from '../transfers/transfer-pool.js';
import type { Executor } from './executor.js';

/** Transfers launched from this process, `concurrency` at a time (transfers/transfer-pool.ts); ranks run here too. */
export const localExecutor: Executor = {
  launchesHere: true,
  run: ({ jobs, concurrency, policy, where, onRecord }) => runTransferPool(jobs, concurrency, policy, where, onRecord),
  async ranks({ p, ranks, record, recorded }) {
    await Promise.all(ranks.map((r) => runRank(p, r, (step) => record(r.rank, step), recorded(r.rank))));
  },
};
