import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import type { OpenSshVersion } from '../hosts/openssh-version.js';
import type { AttemptRecord, FailureClass, TransferRecord, TransferStatus } from '../records/transfer-record.js';
import { backoffDelay } from './backoff.js';
import { launchTurn } from './launch-turn.js';
import { classify } from './failure-classifier.js';
import type { TransferJob, TransferTool } from './transfer-tool.js';

export interface TransferPolicy {
  tool: TransferTool;
  retries: number;
  backoffMs: number;
  backoffMaxMs: number;
  timeoutMs: number;
  clientVersion?: OpenSshVersion;
  /** Run clock (ms). */
  clock: () => number;
  /** Directory for per-attempt stderr files. */
  scratchDir: string;
  signal?: AbortSignal;
  random?: () => number;
}

const STDERR_TAIL = 2000;

/**
 * Runs one transfer with its retries. stderr goes to a file rather than a pipe: a ControlPersist
 * master (or its ProxyJump child) can inherit the first client's stderr and would hold a pipe
 * open long after that client exited.
 */
export async function runTransfer(job: TransferJob, cell: string, repeat: number, id: number, policy: TransferPolicy): Promise<TransferRecord> {
  const attempts: AttemptRecord[] = [];
  const local = policy.tool.command(job);
  const command = job.exec ? job.exec(local, policy.timeoutMs) : local;
  for (let attempt = 1; attempt <= policy.retries + 1; attempt++) {
    if (policy.signal?.aborted) break;
    if (attempt > 1) {
      await sleep(backoffDelay(attempt - 1, policy.backoffMs, policy.backoffMaxMs, policy.random), undefined, { signal: policy.signal }).catch(() => undefined);
      if (policy.signal?.aborted) break;
    }
    const stderrFile = join(policy.scratchDir, `${id}.${attempt}.stderr`);
    // The child writes straight to the file through its own descriptor: no stream in this process.
    const stderrHandle = await open(stderrFile, 'w');
    await launchTurn();
    const start = policy.clock();
    const result = await execa(command.file, command.args, {
      reject: false,
      stdout: 'ignore',
      // execa passes an integer straight to spawn(); its typings only list descriptors 3-9.
      stderr: stderrHandle.fd as unknown as 'ignore',
      ...(command.input !== undefined ? { input: command.input } : { stdin: 'ignore' }),
      timeout: policy.timeoutMs,
      forceKillAfterDelay: 2000,
      ...(policy.signal ? { cancelSignal: policy.signal } : {}),
    });
    const end = policy.clock();
    await stderrHandle.close();
    const stderr = await readFile(stderrFile, 'utf8').catch(() => '');
    await rm(stderrFile, { force: true });
    const timedOut = result.timedOut === true;
    const exitCode = result.exitCode ?? null;
    const { classes, primary } = classify({ stderr, exitCode, timedOut, clientVersion: policy.clientVersion });
    attempts.push({
      attempt,
      start_ms: round(start),
      end_ms: round(end),
      exit_code: exitCode,
      signal: result.signal ?? null,
      timed_out: timedOut,
      classes,
      failure_class: primary,
      stderr_tail: stderr.length > STDERR_TAIL ? stderr.slice(-STDERR_TAIL) : stderr,
    });
    if (result.isCanceled) break;
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
  const firstFailure = attempts.find((a) => a.failure_class !== null);
  const classes = [...new Set(attempts.flatMap((a) => a.classes))] as FailureClass[];
  return {
    type: 'transfer',
    cell,
    repeat,
    file: job.entry.path,
    bytes: job.entry.size,
    status,
    start_ms: attempts[0]?.start_ms ?? round(policy.clock()),
    end_ms: last?.end_ms ?? round(policy.clock()),
    attempts,
    failure_class: status === 'failed' && last ? last.failure_class : null,
    classes,
    first_failure_class: firstFailure?.failure_class ?? null,
  };
}
