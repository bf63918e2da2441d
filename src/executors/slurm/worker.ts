import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { findTools } from '../../ssh/openssh-tools.js';
import { JsonlWriter } from '../../records/jsonl-writer.js';
import type { TransferSpec } from '../../transfers/transfer-spec.js';
import { Launcher } from '../../process/launcher.js';
import { createTool } from '../../transfers/tool-registry.js';
import { runTransferPool } from '../../transfers/transfer-pool.js';
import type { TransferJob } from '../../transfers/transfer-tool.js';
import { nodeName, runClock } from './job-process.js';

/** What the run hands each Slurm task (written by slurm-executor.ts, read by `xferbench worker`). */
export interface WorkerJobFile {
  /** The run clock's zero in epoch ms: records come back on the run's own clock. */
  origin_epoch_ms: number;
  cell: string;
  repeat: number;
  /**
   * Transfers each task runs at once, by SLURM_PROCID: they add up to the cell's concurrency, and
   * a task beyond the list gets no transfer (a cell at 6 on 60 tasks runs on 6 of them).
   */
  concurrency: number[];
  transfer: TransferSpec;
  policy: { retries: number; backoffMs: number; backoffMaxMs: number; timeoutMs: number };
  jobs: TransferJob[];
  /** Each task writes task-<SLURM_PROCID>.jsonl here. */
  out_dir: string;
}

/**
 * One Slurm task: its share of a cell's transfers (every Nth, from SLURM_PROCID, N the tasks in use), run
 * by the same pool and launcher as a local run, each record written as it completes with the node
 * and task that ran it. Not a second implementation: the transfer path is the local one.
 */
export async function runWorker(file: string): Promise<void> {
  const job = JSON.parse(await readFile(file, 'utf8')) as WorkerJobFile;
  const tasks = Number(process.env.SLURM_NTASKS ?? 1);
  const task = Number(process.env.SLURM_PROCID ?? 0);
  const node = nodeName();
  const active = Math.min(tasks, job.concurrency.length);
  const mine = task < active ? job.jobs.filter((_, i) => i % active === task) : [];
  const tools = await findTools();
  const tool = await createTool(job.transfer, tools);
  await using launcher = await Launcher.start();
  using writer = new JsonlWriter(join(job.out_dir, `task-${task}.jsonl`));
  const clock = runClock(job.origin_epoch_ms);
  await runTransferPool(mine, job.concurrency[task] ?? 1, { tool, ...job.policy, clientVersion: tools.sshVersion, clock, launcher }, { cell: job.cell, repeat: job.repeat }, (r) =>
    writer.write({ ...r, node, task }),
  );
  await tool.close?.();
}
