import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { JsonlWriter } from '../../records/jsonl-writer.js';
import type { StepName } from '../../records/pipeline-records.js';
import { pipelineRepeat, type PipelineJobContext } from '../../pipeline/job-context.js';
import { firstFailure, runStep } from '../../pipeline/rank.js';
import { rankRun, readState } from '../../pipeline/state-file.js';
import { Launcher } from '../../process/launcher.js';
import { nodeName, runClock } from './job-process.js';

/** What a pipeline repeat's batch jobs read (written by slurm-ranks.ts, read by `xferbench step`). */
export interface StepJobFile extends PipelineJobContext {
  /** The run clock's zero in epoch ms: records come back on the run's own clock. */
  originEpochMs: number;
  /** Each job writes r<rank>-<step>-j<id>.jsonl (its transfers) and .drops.json here. */
  outDir: string;
}

/** A job's files, named by its id: a step run again after a lost queue is a new job with files of its own. */
export const jobFiles = (dir: string, rank: number, step: StepName, jobId: string) => ({
  transfers: join(dir, `r${rank}-${step}-j${jobId}.jsonl`),
  drops: join(dir, `r${rank}-${step}-j${jobId}.drops.json`),
  output: join(dir, `r${rank}-${step}-j${jobId}.out`),
});

/** The job id in a job's file name. */
export const jobIdOf = (name: string): string | undefined => /-j(\d+)\.\w+$/.exec(name)?.[1];

/**
 * One batch job: one step of one rank, run by rank.ts's runStep against the rank's state file,
 * as the in-process chain runs it. The exit status is what Slurm's afterok/afternotok read: 0 for
 * a step that succeeded. scancel's SIGTERM aborts the step and leaves it `running` for resume.
 */
export async function runStepJob(file: string, rank: number, step: StepName, dependency: string | undefined): Promise<number> {
  const job = JSON.parse(await readFile(file, 'utf8')) as StepJobFile;
  const abort = new AbortController();
  process.once('SIGTERM', () => abort.abort());
  const node = nodeName();
  const clock = runClock(job.originEpochMs);
  const jobId = process.env.SLURM_JOB_ID ?? String(process.pid);
  const out = jobFiles(job.outDir, rank, step, jobId);
  await using launcher = await Launcher.start();
  using writer = new JsonlWriter(out.transfers);
  // One rank's steps never run at once (each waits on the one before), so one invocation at a time.
  const p = pipelineRepeat(job, { clock, launcher, signal: abort.signal, concurrency: () => 1, onTransfer: (r) => writer.write({ ...r, node }) });
  const state = await readState(p.paths.state, rank);
  if (!state) throw new Error(`no state file for rank ${rank} in ${p.paths.state}: the run writes it before submitting`);
  const before = state.steps[step];
  // Already ended (a job run twice): its outcome stands.
  if (before && before.status !== 'running') return before.status === 'ok' ? 0 : 1;
  const r = rankRun(p.paths.state, rank, state);
  const failed = step === 'cleanup' ? firstFailure(r) : undefined;
  const body = await runStep(p, r, step, failed ? { failed } : {}, { job_id: jobId, node, ...(dependency ? { dependency } : {}) });
  if (p.silentDrops.length > 0) await writeFile(out.drops, JSON.stringify(p.silentDrops));
  return body?.status === 'ok' ? 0 : 1;
}
