import { join } from 'node:path';
import * as z from 'zod';
import { int, nameSchema } from '../../spec/fields.js';
import { SetupError, type ScenarioIssue } from '../../util/errors.js';
import type { ExecutorCell, ExecutorKind, RawScenario } from '../executor-kind.js';
import type { FieldIssue } from '../../spec/fields.js';

/** Tools a Slurm task can run: command-line tools, one file per invocation. */
const SLURM_TOOLS: readonly string[] = ['rsync', 'scp', 'sftp', 'cp'];

/** The scenario's `slurm:` section: nodes of the run's private cluster and tasks on each; the cell's transfers are dealt to the tasks. */
const slurmSection = z.strictObject({
  nodes: int(1, 4096).default(3),
  tasks_per_node: int(1, 256).default(1),
  /** private: a cluster started for the run; existing: the one SLURM_CONF names (docs/slurm.md). */
  cluster: z.enum(['private', 'existing']).default('private'),
  /** existing: the partition to run in (default: the cluster's default). */
  partition: nameSchema.optional(),
});
type SlurmSettings = z.infer<typeof slurmSection>;

/** The cell's validated `slurm:` section (the scenario's schema put it there), if it has one. */
const settingsOf = (c: ExecutorCell): Partial<SlurmSettings> => (c.scenario.slurm as SlurmSettings | undefined) ?? {};
const shape = (c: ExecutorCell) => ({ nodes: settingsOf(c).nodes ?? 3, tasks_per_node: settingsOf(c).tasks_per_node ?? 1 });

/**
 * `xb_stage_in` / `xb_stage_out` licenses: a stage's `concurrency`, which preflight requires to be
 * the same in every cell (a cluster has one count).
 */
export function stageLicenses(cells: readonly ExecutorCell[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of cells) {
    for (const which of ['stage_in', 'stage_out'] as const) {
      const n = c.scenario.pipeline?.[which]?.concurrency;
      if (n !== undefined) out[`xb_${which}`] = n;
    }
  }
  return out;
}

/**
 * `executor: slurm`: a cell's transfers, or a pipeline's steps, fanned out over the nodes of a
 * Slurm cluster (docs/slurm.md): a private one started for the run, or the one SLURM_CONF names.
 * The cluster code is loaded on demand: a local run never imports it.
 */
export const slurmKind: ExecutorKind = {
  section: slurmSection,
  queue: true,
  launchesElsewhere: 'its tasks launch the transfers in processes of their own, on its nodes',
  stepsNote: 'each step a Slurm batch job (afterok; cleanup afternotok)',
  check(s: RawScenario): FieldIssue[] {
    const out: FieldIssue[] = [];
    const hasPipeline = s.pipeline !== undefined;
    const t = s.transfer as { tool?: unknown } | undefined;
    if (!hasPipeline && t && !SLURM_TOOLS.includes(typeof t.tool === 'string' ? t.tool : 'rsync')) out.push({ path: ['transfer', 'tool'], message: `executor: slurm runs ${SLURM_TOOLS.join(', ')}` });
    if (s.client === 'container') out.push({ path: ['client'], message: 'executor: slurm launches from the cluster\'s nodes; client: container does not apply' });
    if (!hasPipeline && Array.isArray(s.faults) && s.faults.length > 0) out.push({ path: ['faults'], message: 'faults are applied as this process launches transfers; with executor: slurm the nodes launch them' });
    const sl = s.slurm as { nodes?: unknown; cluster?: unknown; partition?: unknown } | undefined;
    if (sl && sl.cluster !== 'existing' && typeof sl.nodes === 'number' && sl.nodes > 16) out.push({ path: ['slurm', 'nodes'], message: 'the private cluster runs at most 16 nodes on this machine; use cluster: existing for more' });
    if (sl && sl.cluster !== 'existing' && sl.partition !== undefined) out.push({ path: ['slurm', 'partition'], message: 'partition applies to cluster: existing' });
    return out;
  },
  // Slurm must be on this machine, and an existing cluster must have the nodes asked for: said before anything starts.
  async preflight(cells, issueAt) {
    const issues: ScenarioIssue[] = [];
    const { findSlurm, partitionNodes } = await import('./slurm-cluster.js');
    const slurm = await findSlurm();
    const wanted = settingsOf(cells[0]!);
    // A run starts (or uses) one cluster.
    if (cells.some((c) => (settingsOf(c).cluster ?? 'private') !== (wanted.cluster ?? 'private') || settingsOf(c).partition !== wanted.partition)) {
      issues.push(issueAt(['slurm'], 'slurm.cluster and slurm.partition name the run\'s one cluster: they cannot vary across the matrix'));
    }
    if (typeof slurm === 'string') issues.push(issueAt(['executor'], `executor: slurm: ${slurm}`));
    else if (wanted.cluster === 'existing') {
      const conf = process.env.SLURM_CONF;
      const nodes = conf ? await partitionNodes(slurm, { SLURM_CONF: conf }, wanted.partition) : 'SLURM_CONF is not set: it names the existing cluster';
      const most = Math.max(...cells.map((c) => shape(c).nodes));
      if (typeof nodes === 'string') issues.push(issueAt(['slurm', 'cluster'], nodes));
      else if (most > nodes.length) issues.push(issueAt(['slurm', 'nodes'], `${most} nodes asked for; the cluster${wanted.partition ? `'s partition ${wanted.partition}` : ''} has ${nodes.length}`));
    }
    // A pipeline stage's concurrency is a license count of the private cluster: one per run.
    for (const which of ['stage_in', 'stage_out'] as const) {
      const counts = new Set(cells.map((c) => c.scenario.pipeline?.[which]?.concurrency));
      if (counts.size === 1 && counts.has(undefined)) continue;
      if (wanted.cluster === 'existing') issues.push(issueAt(['pipeline', which, 'concurrency'], 'with slurm: { cluster: existing } the site\'s own limits bound staging jobs; concurrency is enforced (as licenses) on the private cluster only'));
      else if (counts.size > 1) issues.push(issueAt(['pipeline', which, 'concurrency'], 'with executor: slurm a stage\'s concurrency is the private cluster\'s license count: it cannot vary across the matrix'));
    }
    return issues;
  },
  // One cluster per run: a private one as large as the largest cell asks for, in the run's state folder.
  async setUp(cells, stateDir, { originEpochMs, firstJobId, signal }) {
    const { existingSlurmCluster, findSlurm, startSlurmCluster } = await import('./slurm-cluster.js');
    const { slurmExecutor } = await import('./slurm-executor.js');
    const programs = await findSlurm();
    if (typeof programs === 'string') throw new SetupError(`executor: slurm: ${programs}`);
    const nodes = Math.max(...cells.map((c) => shape(c).nodes));
    const cpus = Math.max(...cells.map((c) => shape(c).tasks_per_node));
    // A scenario names one cluster (preflight refuses a cluster or partition that varies across the matrix).
    const { cluster: kind = 'private', partition } = settingsOf(cells[0]!);
    // A pipeline stage's concurrency over all ranks is a license count of the private cluster.
    const licenses = stageLicenses(cells);
    const cluster =
      kind === 'existing'
        ? await existingSlurmCluster(programs, partition)
        : await startSlurmCluster(join(stateDir, 'slurm'), { nodes, cpus, licenses, programs, ...(firstJobId ? { firstJobId } : {}), ...(signal ? { signal } : {}) });
    return {
      forCell: (c) => slurmExecutor(cluster, shape(c), originEpochMs, { licenses: kind === 'private' }),
      notice: kind === 'existing' ? `Slurm cluster of SLURM_CONF: ${cluster.nodes.length} node(s)${partition ? ` in ${partition}` : ''}` : `Slurm cluster up: ${cluster.nodes.join(', ')} (${cluster.startMs.toFixed(0)} ms)`,
      [Symbol.asyncDispose]: () => cluster.stop(),
    };
  },
};
