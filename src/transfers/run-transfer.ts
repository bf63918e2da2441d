import { setTimeout as sleep } from 'node:timers/promises';
import type { OpenSshVersion } from '../ssh/openssh-version.js';
import { recordClasses, type AttemptRecord, type TransferRecord, type TransferStatus } from '../records/transfer-record.js';
import { backoffDelay } from './backoff.js';
import { prng, seedOf } from '../util/prng.js';
import { classify } from './failure-classifier.js';
import { connectionsIn } from '../ssh/connector.js';
import type { Launcher } from '../process/launcher.js';
import type { TransferJob, TransferTool } from './transfer-tool.js';
import type { StartPacer } from './start-pacer.js';

export interface TransferPolicy {
  tool: TransferTool;
  retries: number;
  backoffMs: number;
  backoffMaxMs: number;
  timeoutMs: number;
  clientVersion?: OpenSshVersion;
  /** Run clock (ms). */
  clock: () => number;
  /** Forks and execs off the event loop; see launcher.ts. */
  launcher: Launcher;
  signal?: AbortSignal;
  /** The backoff's jitter; by default seeded by cell, repeat and file (see runTransfer). */
  random?: () => number;
  /** Called as each transfer starts its first attempt (faults with `at: "N%"` count them). */
  onStart?: () => void;
  /** Paces every attempt's start (toward an external host, spec/external-host.ts); its wait is not the attempt's. */
  pace?: StartPacer;
}

const STDERR_TAIL = 2000;

/**
 * The backoff's jitter for one transfer: full jitter, seeded by cell, repeat and file, so files
 * that failed together still come back apart, and a run's retries fall at the same moments every
 * time it is run, as everything else it draws (Math.random made a seed scenario's "with retries
 * every one recovers" hold only most of the time).
 */
export const retryJitter = (cell: string, repeat: number, path: string): (() => number) => prng(seedOf(`${cell}\0${repeat}\0${path}`));

/** Runs one transfer with its retries; each attempt's times are its fork and its reaping. */
export async function runTransfer(job: TransferJob, cell: string, repeat: number, policy: TransferPolicy): Promise<TransferRecord> {
  const attempts: AttemptRecord[] = [];
  const { tool } = policy;
  const local = tool.run ? undefined : tool.command(job);
  const command = local && job.exec ? job.exec(local, policy.timeoutMs) : local;
  const options = { timeoutMs: policy.timeoutMs, ...(policy.signal ? { signal: policy.signal } : {}) };
  // The launcher reports performance.now() times; records use the run clock.
  const toClock = (ms: number) => policy.clock() - (performance.now() - ms);
  policy.onStart?.();
  const random = policy.random ?? retryJitter(cell, repeat, job.entry.path);
  for (let attempt = 1; attempt <= policy.retries + 1; attempt++) {
    if (policy.signal?.aborted) break;
    if (attempt > 1) {
      await sleep(backoffDelay(attempt - 1, policy.backoffMs, policy.backoffMaxMs, random), undefined, { signal: policy.signal }).catch(() => undefined);
      if (policy.signal?.aborted) break;
    }
    if (policy.pace) {
      await policy.pace.take(policy.signal);
      if (policy.signal?.aborted) break;
    }
    // An in-process tool (a library client) runs the job itself, reporting as the launcher does.
    const result = command
      ? await policy.launcher.run({ file: command.file, args: command.args, ...(command.input !== undefined ? { input: command.input } : {}), ...options })
      : await tool.run!(job, options);
    const start = toClock(result.startMs);
    const end = toClock(result.endMs);
    const stderr = result.error ? `${result.stderr}cannot run ${command?.file}: ${result.error}\n` : result.stderr;
    const timedOut = result.timedOut;
    const exitCode = result.exitCode;
    const { classes, primary } = classify({ stderr, exitCode, timedOut, clientVersion: policy.clientVersion, ...(tool.exitClasses ? { exitClasses: tool.exitClasses } : {}) });
    const connections = connectionsIn(stderr);
    attempts.push({
      attempt,
      start_ms: round(start),
      end_ms: round(end),
      exit_code: exitCode,
      signal: result.signal,
      timed_out: timedOut,
      classes,
      failure_class: primary,
      stderr_tail: stderr.length > STDERR_TAIL ? stderr.slice(-STDERR_TAIL) : stderr,
      ...(result.setupMs !== undefined ? { setup_ms: round(result.setupMs) } : {}),
      ...(result.requestedMs !== undefined ? { launch_lag_ms: round(result.startMs - result.requestedMs) } : {}),
      // Read from the whole stderr: the connector's line comes first and the tail may not keep it.
      ...(connections.length > 0 ? { connections } : {}),
    });
    if (result.canceled) break;
    if (exitCode === 0 && !timedOut) break;
  }
  return toRecord(job, cell, repeat, attempts, policy);
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

function toRecord(job: TransferJob, cell: string, repeat: number, attempts: AttemptRecord[], policy: TransferPolicy): TransferRecord {
  const last = attempts.at(-1);
  const succeeded = last !== undefined && last.exit_code === 0 && !last.timed_out;
  const canceled = !succeeded && policy.signal?.aborted === true;
  const status: TransferStatus = succeeded ? (attempts.length > 1 ? 'recovered' : 'ok') : canceled ? 'canceled' : 'failed';
  return {
    type: 'transfer',
    cell,
    repeat,
    file: job.entry.path,
    bytes: job.entry.size,
    status,
    start_ms: attempts[0]?.start_ms ?? round(policy.clock()),
    end_ms: last?.end_ms ?? round(policy.clock()),
    ...recordClasses(attempts, status),
  };
}

