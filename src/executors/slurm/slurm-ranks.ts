import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pLimit from 'p-limit';
import { HostStartError, QueueLostError } from '../../util/errors.js';
import { JsonlTail } from '../../records/jsonl-tail.js';
import { runCommand } from '../../process/run-command.js';
import { CHAIN, endStep, recordEnded, skippedStep } from '../../pipeline/rank.js';
import { readState, type RankState, type StepBody } from '../../pipeline/state-file.js';
import { STEP_REGISTRY } from '../../pipeline/steps/registry.js';
import type { RankRun } from '../../pipeline/state-file.js';
import type { TransferRecord } from '../../records/transfer-record.js';
import type { StepName } from '../../records/pipeline-records.js';
import type { PipelineSpec } from '../../pipeline/pipeline-spec.js';
import type { RanksRun } from '../executor.js';
import { XFERBENCH_CLI } from './job-process.js';
import type { StartedSlurmCluster } from './slurm-cluster.js';
import { jobFiles, jobIdOf, type StepJobFile } from './step-job.js';


/** A job's dependency as rank.ts's chain has it: afterok on the step before, afternotok on any step (cleanup). */
export type JobDependency = { kind: 'afterok'; step: StepName } | { kind: 'afternotok'; steps: StepName[] };

/** What a rank still has to do, from its state file: jobs to submit, and steps already known to be skipped. */
export interface RankJobs {
  submit: { step: StepName; after?: JobDependency }[];
  skip: { step: StepName; waited_on: StepName }[];
}

/**
 * The jobs of one rank, V1 of the PBS seed: stage_in; compute afterok:stage_in; stage_out
 * afterok:compute; cleanup afternotok on any of them (on_failure: cleanup). Steps the state file
 * says ended are not submitted again (resume); a dependency on one is already met, so the step
 * after it is submitted without one, or skipped now if it failed. Pure: unit-tested.
 */
export function planRankJobs(spec: PipelineSpec, state: Pick<RankState, 'steps'>): RankJobs {
  const submit: RankJobs['submit'] = [];
  const skip: RankJobs['skip'] = [];
  let failed = false;
  let previous: StepName | undefined;
  for (const step of CHAIN) {
    if (!STEP_REGISTRY[step].present(spec)) continue;
    const dependency = previous;
    previous = step;
    const s = state.steps[step];
    if (s && s.status !== 'running') {
      if (s.status !== 'ok') failed = true;
      continue;
    }
    if (failed) skip.push({ step, waited_on: dependency! });
    else submit.push({ step, ...(dependency && submit.some((j) => j.step === dependency) ? { after: { kind: 'afterok', step: dependency } } : {}) });
  }
  const cleanup = state.steps.cleanup;
  if (STEP_REGISTRY.cleanup.present(spec) && (!cleanup || cleanup.status === 'running')) {
    // A failure already known: cleanup runs now. Otherwise it waits for one that may never come.
    if (failed) submit.push({ step: 'cleanup' });
    else if (submit.length > 0) submit.push({ step: 'cleanup', after: { kind: 'afternotok', steps: submit.map((j) => j.step) } });
  }
  return { submit, skip };
}

/** Slurm job states after which nothing more happens to the job. */
const ENDED = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'NODE_FAIL', 'PREEMPTED', 'OUT_OF_MEMORY', 'BOOT_FAIL', 'DEADLINE']);

interface Job {
  id: string;
  rank: number;
  step: StepName;
  dependency?: string;
  /** Last state squeue gave, and its reason; `GONE` once squeue no longer lists it. */
  state: string;
  reason: string;
  node: string;
  started: boolean;
  /** Its step's record is written (as soon as the job ended with its step saved). */
  recorded?: boolean;
}

const POLL_MS = 300;

/**
 * A pipeline repeat as Slurm batch jobs: per rank, one job per step with --dependency as
 * planRankJobs gives it and --kill-on-invalid-dep (a dependency that can never be met cancels the
 * job, recorded as `skipped`). Each rank's first job is held until every job is queued, so no
 * dependant is submitted after what it waits on ended. Jobs write the rank's state file and their
 * transfers; this process records them as each job ends. What no job saved (skipped, a job that
 * died) it writes itself once the rank's last job ended: a state file has one writer at a time. Jobs cancelled outside the workflow (the queue
 * lost) leave their steps for `xferbench resume`: QueueLostError.
 */
export async function runRanksOnSlurm(cluster: StartedSlurmCluster, input: RanksRun, options: { originEpochMs: number; live: Set<string>; licenses: boolean }): Promise<void> {
  const { p, job: context } = input;
  const env = cluster.env;
  const outDir = join(p.paths.root, 'jobs');
  await mkdir(outDir, { recursive: true, mode: 0o700 });
  const file = join(outDir, 'job.json');
  const body: StepJobFile = { ...context, originEpochMs: options.originEpochMs, outDir };
  await writeFile(file, JSON.stringify(body), { mode: 0o600 });
  // sbatch runs a script; this one only hands over the argv it is given (no shell string of ours).
  const script = join(outDir, 'step.sh');
  await writeFile(script, '#!/bin/sh\nexec "$@"\n', { mode: 0o700 });

  const jobs: Job[] = [];
  const byRank = new Map<number, Job[]>();
  const dependencyText = (rank: number, after: JobDependency | undefined): string | undefined => {
    if (!after) return undefined;
    const idOf = (step: StepName) => byRank.get(rank)!.find((j) => j.step === step)!.id;
    return after.kind === 'afterok' ? `afterok:${idOf(after.step)}` : after.steps.map((s) => `afternotok:${idOf(s)}`).join('?');
  };
  const submitOne = async (rank: number, step: StepName, after: JobDependency | undefined, hold: boolean): Promise<Job> => {
    const dependency = dependencyText(rank, after);
    const stage = step === 'stage_in' || step === 'stage_out' ? p.stages[step] : undefined;
    const args = [
      '--parsable', ...(hold ? ['--hold'] : []), `--job-name=xb-c${context.cell.index}r${p.repeat}-${rank}-${step}`,
      `--output=${jobFiles(outDir, rank, step, '%j').output}`, '--open-mode=append', '--nodes=1', '--ntasks=1',
      ...(cluster.partition ? [`--partition=${cluster.partition}`] : []),
      // A stage's concurrency over all ranks: licenses of the private cluster (slurm-config.ts).
      ...(stage && options.licenses && stage.spec.concurrency !== undefined ? [`--licenses=xb_${step}:1`] : []),
      ...(dependency ? [`--dependency=${dependency}`, '--kill-on-invalid-dep=yes'] : []),
      script, process.execPath, XFERBENCH_CLI, 'step', file, String(rank), step, ...(dependency ? [dependency] : []),
    ];
    const r = await runCommand(cluster.programs.sbatch, args, { env, timeoutMs: 30_000 });
    const id = /^(\d+)/.exec(r.stdout.trim())?.[1];
    if (r.exitCode !== 0 || !id) throw new HostStartError(`sbatch of rank ${rank} ${step} failed (exit ${r.exitCode}): ${r.stderr.trim().slice(0, 300)}`);
    const j: Job = { id, rank, step, ...(dependency ? { dependency } : {}), state: 'PENDING', reason: '', node: '', started: false };
    byRank.set(rank, [...(byRank.get(rank) ?? []), j]);
    jobs.push(j);
    options.live.add(id);
    return j;
  };

  const states = new Map(input.ranks.map((r) => [r.rank, r]));
  // Steps known to be skipped (a failure recorded before an interruption) need no job.
  for (const r of input.ranks) {
    const record = (step: StepBody) => input.record(r.rank, step);
    recordEnded(r, record, input.recorded(r.rank));
    for (const s of planRankJobs(p.spec, r.state).skip) await endStep(r, skippedStep(s.step, p.clock(), s.waited_on), record);
  }
  const submitting = pLimit(8);
  const held: string[] = [];
  try {
    await Promise.all(
      input.ranks.map((r) =>
        submitting(async () => {
          for (const [i, s] of planRankJobs(p.spec, r.state).submit.entries()) {
            const j = await submitOne(r.rank, s.step, s.after, i === 0);
            if (i === 0) held.push(j.id);
          }
        }),
      ),
    );
    if (held.length > 0) {
      const r = await runCommand(cluster.programs.scontrol, ['release', held.join(',')], { env, timeoutMs: 30_000 });
      if (r.exitCode !== 0) throw new HostStartError(`scontrol release failed (exit ${r.exitCode}): ${r.stderr.trim().slice(0, 300)}`);
    }
    // Each job's transfers as it writes them; files of this repeat's jobs only (a resumed one has older ones).
    const ids = new Set(jobs.map((j) => j.id));
    const tail = new JsonlTail(outDir, (name) => ids.has(jobIdOf(name) ?? ''));
    const take = async () => {
      for (const rec of await tail.read<TransferRecord>()) p.onTransfer(rec);
    };
    const deadline = Date.now() + longestMs(input, cluster.nodes.length);
    const pendingRanks = new Set(byRank.keys());
    const lost: string[] = [];
    const collected = new Set<Job>();
    while (pendingRanks.size > 0) {
      if (p.signal?.aborted) return;
      if (Date.now() > deadline) throw new HostStartError(`the pipeline's Slurm jobs did not end in ${(longestMs(input, cluster.nodes.length) / 1000).toFixed(0)} s (every step at its timeout); their output is in ${outDir}`);
      await poll(cluster, jobs.filter((j) => !collected.has(j)));
      // After the poll: a job squeue shows ended has written all it will.
      await take();
      for (const j of jobs) {
        if (j.started || j.state === 'PENDING' || j.state === 'GONE') continue;
        j.started = true;
        if (j.step !== 'cleanup' && j.state !== 'CANCELLED') input.onStepStart?.();
      }
      for (const j of jobs.filter((x) => !collected.has(x) && (ENDED.has(x.state) || x.state === 'GONE'))) {
        collected.add(j);
        options.live.delete(j.id);
        await collectDrops(input, j, outDir);
        // Recorded as it ends; what the job could not save is settled once the rank's last job ended.
        const saved = (await readState(p.paths.state, j.rank))?.steps[j.step];
        if (saved && saved.status !== 'running') {
          input.record(j.rank, saved.record);
          j.recorded = true;
        }
      }
      for (const rank of [...pendingRanks]) {
        if (!byRank.get(rank)!.every((j) => collected.has(j))) continue;
        pendingRanks.delete(rank);
        lost.push(...(await finishRank(input, states.get(rank)!, byRank.get(rank)!, outDir)));
      }
      if (pendingRanks.size > 0) await sleep(POLL_MS);
    }
    await take();
    if (lost.length > 0) {
      throw new QueueLostError(`${lost.length} Slurm job(s) were cancelled from outside the workflow before their step ended (${lost.slice(0, 4).join(', ')}${lost.length > 4 ? ', …' : ''}): the queue was lost; \`xferbench resume ${context.reportDir}\` resubmits only what did not finish`);
    }
  } finally {
    // Interrupted or failed: nothing of this repeat stays queued.
    const left = jobs.filter((j) => options.live.has(j.id)).map((j) => j.id);
    if (left.length > 0) await runCommand(cluster.programs.scancel, left, { env, timeoutMs: 30_000 });
    for (const id of left) options.live.delete(id);
  }
}

/** States of the given jobs; a job squeue no longer lists is GONE (its state file tells what it did). */
async function poll(cluster: StartedSlurmCluster, jobs: Job[]): Promise<void> {
  if (jobs.length === 0) return;
  const r = await runCommand(cluster.programs.squeue, ['-h', '-t', 'all', `--jobs=${jobs.map((j) => j.id).join(',')}`, '-o', '%i|%T|%r|%N'], { env: cluster.env, timeoutMs: 30_000 });
  if (r.exitCode !== 0) return; // slurmctld busy: ask again next round
  const seen = new Map(r.stdout.split('\n').filter(Boolean).map((l) => l.split('|')).map(([id, state, reason, node]) => [id!, { state: state!, reason: reason ?? '', node: node ?? '' }]));
  for (const j of jobs) {
    const s = seen.get(j.id);
    if (!s) j.state = 'GONE';
    else Object.assign(j, { state: s.state, reason: s.reason, node: s.node || j.node });
  }
}

/** Files a job's step found had not arrived whole though its invocation said done. */
async function collectDrops(input: RanksRun, j: Job, outDir: string): Promise<void> {
  const drops = await readFile(jobFiles(outDir, j.rank, j.step, j.id).drops, 'utf8').catch(() => undefined);
  if (drops) input.p.silentDrops.push(...(JSON.parse(drops) as string[]));
}

/**
 * Every job of the rank ended: its steps as the jobs saved them, in chain order; a job cancelled
 * because its dependency could never be met is `skipped` (waiting on what it named); a job that
 * died without saving its step is `failed` (job_failed); one cancelled from outside stays `running`.
 */
async function finishRank(input: RanksRun, r: RankRun, jobs: readonly Job[], outDir: string): Promise<string[]> {
  r.state = (await readState(input.p.paths.state, r.rank)) ?? r.state;
  const t = input.p.clock();
  const record = (step: StepBody) => input.record(r.rank, step);
  const lost: string[] = [];
  for (const j of jobs) {
    const saved = r.state.steps[j.step];
    const job = { job_id: j.id, ...(j.node ? { node: j.node } : {}), ...(j.dependency ? { dependency: j.dependency } : {}) };
    if (j.recorded) continue;
    if (saved && saved.status !== 'running') record(saved.record);
    else if (j.state === 'CANCELLED' && j.reason === 'DependencyNeverSatisfied') {
      const waited = j.step === 'cleanup' ? [...CHAIN].reverse().find((s) => r.state.steps[s]) : dependencyStep(jobs, j);
      await endStep(r, skippedStep(j.step, t, waited, { ...job, ...(j.step === 'cleanup' ? { reason: 'afternotok never met: no step failed' } : {}) }), record);
    } else if (j.state !== 'CANCELLED' && j.state !== 'GONE') {
      const tail = (await readFile(jobFiles(outDir, r.rank, j.step, j.id).output, 'utf8').catch(() => '')).trim().split('\n').slice(-3).join(' | ');
      await endStep(r, { step: j.step, status: 'failed', start_ms: t, end_ms: t, files: 0, bytes: 0, failure_class: 'job_failed', reason: `Slurm job ${j.id} ended ${j.state} (${j.reason}) without saving its step${tail ? `: ${tail.slice(0, 300)}` : ''}`, ...job }, record);
    } else lost.push(`rank ${r.rank} ${j.step} (job ${j.id})`);
  }
  return lost;
}

/** The step a job's afterok names. */
function dependencyStep(jobs: readonly Job[], j: Job): StepName | undefined {
  const id = /^afterok:(\d+)/.exec(j.dependency ?? '')?.[1];
  return jobs.find((x) => x.id === id)?.step;
}

/** The longest a repeat's jobs can take: every rank's steps one after another at their timeouts, ranks queued for the slots. */
function longestMs(input: RanksRun, nodes: number): number {
  const { spec } = input.p;
  const perRank = (['stage_in', 'stage_out'] as const).reduce((n, w) => {
    const s = spec[w];
    return s ? n + (input.p.inputs[0]!.length + 1) * (s.retries + 1) * (s.timeout_s * 1000 + s.backoff_max_ms) : n;
  }, 0) + 10 * 60_000;
  return perRank * Math.ceil(input.ranks.length / Math.max(1, nodes)) + 120_000;
}
