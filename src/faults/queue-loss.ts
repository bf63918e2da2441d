import { applied, type FaultKind } from './fault-kind.js';

/**
 * The scheduler loses the run's queue (the PBS seed's scenario D): every job of the run is
 * cancelled at once, running steps killed mid-way, pending ones gone. Nothing undoes it; the
 * repeat stops there and `xferbench resume` resubmits only what did not finish (docs/slurm.md).
 */
export const queueLoss: FaultKind = {
  acts: 'queue',
  fields: {},
  summary: "cancel every job of the run's Slurm queue (executor: slurm pipelines); xferbench resume resubmits what did not finish",
  async apply(_spec, target) {
    if (!target.queue) throw new Error('internal: queue_loss without a job queue (preflight requires executor: slurm)');
    const cancelled = await target.queue.cancelAll();
    return applied(`scancel of the ${cancelled} job(s) the run had queued or running: the queue is lost`, async () => undefined);
  },
};
