import { join } from 'node:path';
import { SetupError } from '../util/errors.js';
import type { PlanCell } from '../plan/plan.js';
import type { Executor } from './executor.js';
import { localExecutor } from './local.js';
import type { StartedSlurmCluster } from './slurm/slurm-cluster.js';

/** What a run starts once for the executors its cells use (a Slurm cluster), disposed with the run. */
export interface ExecutorSetup extends AsyncDisposable {
  /** The executor of one cell. */
  forCell(cell: PlanCell): Executor;
  /** For the progress display. */
  notice?: string;
}

/**
 * The executors of a run's cells, by the scenario's `executor`: `local` needs nothing; `slurm`
 * starts one private cluster, as many nodes as the largest cell asks for, in the run's state
 * folder. Loaded on demand: a local run never imports the Slurm code.
 */
export async function setUpExecutors(cells: readonly PlanCell[], stateDir: string, options: { originEpochMs: number; firstJobId?: number; signal?: AbortSignal }): Promise<ExecutorSetup> {
  const { originEpochMs, signal } = options;
  const slurmCells = cells.filter((c) => c.scenario.executor === 'slurm');
  if (slurmCells.length === 0) return { forCell: () => localExecutor, [Symbol.asyncDispose]: async () => undefined };
  const { existingSlurmCluster, findSlurm, startSlurmCluster } = await import('./slurm/slurm-cluster.js');
  const { slurmExecutor } = await import('./slurm/slurm-executor.js');
  const programs = await findSlurm();
  if (typeof programs === 'string') throw new SetupError(`executor: slurm: ${programs}`);
  const settings = (c: PlanCell) => ({ nodes: c.scenario.slurm?.nodes ?? 3, tasks_per_node: c.scenario.slurm?.tasks_per_node ?? 1 });
  const nodes = Math.max(...slurmCells.map((c) => settings(c).nodes));
  const cpus = Math.max(...slurmCells.map((c) => settings(c).tasks_per_node));
  // A scenario names one cluster (preflight refuses a cluster or partition that varies across the matrix).
  const { cluster: kind = 'private', partition } = slurmCells[0]!.scenario.slurm ?? {};
  // A pipeline stage's concurrency over all ranks is a license count of the private cluster.
  const licenses = stageLicenses(slurmCells);
  const cluster: StartedSlurmCluster =
    kind === 'existing'
      ? await existingSlurmCluster(programs, partition)
      : await startSlurmCluster(join(stateDir, 'slurm'), { nodes, cpus, licenses, programs, ...(options.firstJobId ? { firstJobId: options.firstJobId } : {}), ...(signal ? { signal } : {}) });
  return {
    forCell: (c) => (c.scenario.executor === 'slurm' ? slurmExecutor(cluster, settings(c), originEpochMs, { licenses: kind === 'private' }) : localExecutor),
    notice: kind === 'existing' ? `Slurm cluster of SLURM_CONF: ${cluster.nodes.length} node(s)${partition ? ` in ${partition}` : ''}` : `Slurm cluster up: ${cluster.nodes.join(', ')} (${cluster.startMs.toFixed(0)} ms)`,
    [Symbol.asyncDispose]: () => cluster.stop(),
  };
}

/**
 * `xb_stage_in` / `xb_stage_out` licenses: a stage's `concurrency`, which preflight requires to be
 * the same in every cell (a cluster has one count).
 */
export function stageLicenses(cells: readonly PlanCell[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of cells) {
    for (const which of ['stage_in', 'stage_out'] as const) {
      const n = c.scenario.pipeline?.[which]?.concurrency;
      if (n !== undefined) out[`xb_${which}`] = n;
    }
  }
  return out;
}
