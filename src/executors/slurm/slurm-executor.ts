import { mkdir, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { HostStartError } from '../../util/errors.js';
import { runCommand } from '../../process/run-command.js';
import { JsonlTail } from '../../records/jsonl-tail.js';
import type { TransferRecord } from '../../records/transfer-record.js';
import type { Executor } from '../executor.js';
import { XFERBENCH_CLI } from './job-process.js';
import type { StartedSlurmCluster } from './slurm-cluster.js';
import { runRanksOnSlurm } from './slurm-ranks.js';
import type { WorkerJobFile } from './worker.js';

/** How often the tasks' record files are read while a step runs. */
const TAIL_MS = 250;

/**
 * A Slurm cluster as an executor. A pipeline's ranks run as batch jobs (slurm-ranks.ts). A
 * transfer cell is fanned out in one `srun -N K --ntasks-per-node=T` step: the cell's concurrency
 * is split over min(K·T, concurrency) tasks, each running every Nth transfer at its share at once,
 * so as many are in flight as a local run would have, spread over nodes. Records come back in
 * per-task files, with node and task, on the run clock, read while the step runs, and are merged
 * as if one process ran them.
 */
export function slurmExecutor(cluster: StartedSlurmCluster, settings: { nodes: number; tasks_per_node: number }, originEpochMs: number, options: { licenses: boolean }): Executor {
  // Jobs of this run still queued or running: what a lost queue takes with it.
  const live = new Set<string>();
  return {
    ranks: (input) => runRanksOnSlurm(cluster, input, { originEpochMs, live, licenses: options.licenses }),
    queue: {
      async cancelAll() {
        if (live.size === 0) return 0;
        // The run's jobs Slurm still holds (one that just ended may not be collected yet).
        const q = await runCommand(cluster.programs.squeue, ['-h', '-t', 'PENDING,RUNNING', `--jobs=${[...live].join(',')}`, '-o', '%i'], { env: cluster.env, timeoutMs: 30_000 });
        const ids = q.exitCode === 0 ? q.stdout.split('\n').filter((l) => /^\d+$/.test(l.trim())).map((l) => l.trim()) : [...live];
        if (ids.length > 0) await runCommand(cluster.programs.scancel, ids, { env: cluster.env, timeoutMs: 30_000 });
        return ids.length;
      },
    },
    async run({ jobs, concurrency, policy, transfer, where, workDir, onRecord }) {
      const tasks = settings.nodes * settings.tasks_per_node;
      const outDir = join(workDir, 'slurm-records');
      await mkdir(outDir, { recursive: true, mode: 0o700 });
      const file = join(workDir, 'slurm-job.json');
      // The cell's concurrency, spread over the tasks exactly (never more in flight than it asks).
      const active = Math.min(tasks, concurrency);
      const perTask = Array.from({ length: active }, (_, i) => Math.floor(concurrency / active) + (i < concurrency % active ? 1 : 0));
      const job: WorkerJobFile = {
        origin_epoch_ms: originEpochMs, cell: where.cell, repeat: where.repeat, concurrency: perTask, transfer,
        policy: { retries: policy.retries, backoffMs: policy.backoffMs, backoffMaxMs: policy.backoffMaxMs, timeoutMs: policy.timeoutMs },
        jobs: jobs.map(({ exec: _exec, ...plain }) => plain),
        out_dir: outDir,
      };
      await writeFile(file, JSON.stringify(job), { mode: 0o600 });
      // The longest the step can take: every round of the busiest task at its timeout, every retry.
      const rounds = Math.ceil(Math.ceil(jobs.length / active) / Math.min(...perTask));
      const timeoutMs = rounds * (policy.retries + 1) * (policy.timeoutMs + policy.backoffMaxMs) + 60_000;
      const step = runCommand(
        cluster.programs.srun,
        // cyclic: consecutive tasks on different nodes, so a cell using only some tasks still spans the nodes.
        [...(cluster.partition ? ['-p', cluster.partition] : []), '-N', String(settings.nodes), `--ntasks-per-node=${settings.tasks_per_node}`, '--distribution=cyclic', '--kill-on-bad-exit=0', `--job-name=xb-${where.repeat}`, process.execPath, XFERBENCH_CLI, 'worker', file],
        { env: cluster.env, timeoutMs, ...(policy.signal ? { signal: policy.signal } : {}) },
      );
      // Each task's records as they are written (progress, live results.jsonl), then what came last.
      const records: TransferRecord[] = [];
      const tail = new JsonlTail(outDir, () => true);
      const take = async () => {
        for (const rec of await tail.read<TransferRecord>()) {
          records.push(rec);
          onRecord?.(rec);
        }
      };
      let ended = false;
      void step.finally(() => (ended = true));
      while (!ended) {
        await take();
        await Promise.race([step, sleep(TAIL_MS)]);
      }
      const r = await step;
      await take();
      if (records.length < jobs.length && !policy.signal?.aborted) {
        throw new HostStartError(`srun ran ${records.length} of ${jobs.length} transfers (exit ${r.exitCode}${r.timedOut ? ', timed out' : ''}): ${r.stderr.trim().slice(-500)}`);
      }
      return records.sort((a, b) => a.end_ms - b.end_ms);
    },
  };
}
