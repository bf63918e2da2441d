import pLimit from 'p-limit';
import type { OpenSshVersion } from '../ssh/openssh-version.js';
import type { TransferRecord } from '../records/transfer-record.js';
import type { PipelineScenario } from './pipeline-spec.js';
import type { Launcher } from '../process/launcher.js';
import type { Lane } from '../transfers/lane.js';
import { RsyncTool } from '../transfers/rsync-tool.js';
import type { StartPacer } from '../transfers/start-pacer.js';
import { pipelineExpectations, stagingPaths, type PipelineExpectations } from './layout.js';
import type { PipelineRepeat, StageRuntime } from './steps/step-kind.js';

type Which = 'stage_in' | 'stage_out';

/**
 * Everything one step of one rank needs besides the rank's state file, as plain data: what a
 * Slurm job reads to run a step in a process of its own. The cell runs its ranks from the same
 * description (pipelineRepeat below), so a step does the same wherever it runs.
 */
export interface PipelineJobContext {
  cell: { id: string; index: number; scenario: PipelineScenario };
  repeat: number;
  reportDir: string;
  /** The repeat's private folder: invocation file lists, lanes' ssh_config and master sockets. */
  controlDir: string;
  rsync: string;
  clientVersion: OpenSshVersion;
  /** Each stage's host and how ssh reaches it (the lane's config is written by the cell). */
  stages: Partial<Record<Which, { host: string; dir?: string; lane: Pick<Lane, 'remote' | 'ssh'> }>>;
}

export interface RepeatRuntime {
  clock: () => number;
  launcher: Launcher;
  signal?: AbortSignal;
  onTransfer(record: TransferRecord): void;
  /** Bounds a stage's invocations in flight (this process's share of them). */
  concurrency(which: Which, ranks: number): number;
  /** Paces invocations toward external hosts (the cell's, when it runs its ranks itself). */
  pace?: StartPacer;
}

/** A pipeline repeat as every step sees it, from its plain description and this process's runtime. */
export function pipelineRepeat(job: PipelineJobContext, rt: RepeatRuntime, expected: PipelineExpectations = pipelineExpectations(job.cell.scenario)): PipelineRepeat {
  const { spec, compute, inputs, outputs } = expected;
  const stages: PipelineRepeat['stages'] = {};
  for (const which of ['stage_in', 'stage_out'] as const) {
    const s = spec[which];
    const at = job.stages[which];
    if (!s || !at) continue;
    const runtime: StageRuntime = {
      spec: s, host: at.host, ...(at.dir !== undefined ? { dir: at.dir } : {}), lane: at.lane,
      limit: pLimit(rt.concurrency(which, spec.ranks)),
      policy: {
        tool: new RsyncTool(job.rsync, s.rsync_args),
        retries: s.retries, backoffMs: s.backoff_ms, backoffMaxMs: s.backoff_max_ms, timeoutMs: s.timeout_s * 1000,
        clientVersion: job.clientVersion, clock: rt.clock, launcher: rt.launcher, ...(rt.pace ? { pace: rt.pace } : {}), ...(rt.signal ? { signal: rt.signal } : {}),
      },
    };
    stages[which] = runtime;
  }
  return {
    cell: job.cell.id, repeat: job.repeat, spec, seed: job.cell.scenario.dataset.seed,
    paths: stagingPaths(job.reportDir, job.cell.index, job.repeat), controlDir: job.controlDir,
    stages, compute, inputs, outputs, clock: rt.clock, silentDrops: [], onTransfer: rt.onTransfer,
    ...(rt.signal ? { signal: rt.signal } : {}),
  };
}
