/** What became of one file's transfer: its attempts, their classes and connections. */
import type { StepName } from './pipeline-records.js';

export const FAILURE_CLASSES = [
  'maxstartups_drop',
  'maxsessions_refused',
  'mux_race',
  'mux_master_lost',
  'timeout',
  'auth',
  'negotiation',
  'host_key',
  'connection_refused',
  'connection_reset',
  'no_space',
  'remote_error',
  'io_error',
  'unknown',
] as const;
export type FailureClass = (typeof FAILURE_CLASSES)[number];

/** One run of the tool for one file. */
export interface AttemptRecord {
  attempt: number;
  /** Run clock, milliseconds. */
  start_ms: number;
  end_ms: number;
  exit_code: number | null;
  signal: string | null;
  /** Killed by the harness after transfer.timeout_s. */
  timed_out: boolean;
  classes: FailureClass[];
  /** Primary class when this attempt failed, else null. */
  failure_class: FailureClass | null;
  stderr_tail: string;
  /** tool: forward: ms from the attempt's start until its port forward accepted connections. */
  setup_ms?: number;
  /** ms from asking the launcher to its fork (start_ms): how far the launcher itself lagged. */
  launch_lag_ms?: number;
  /** The TCP connections it opened, as the connector saw them: what a drop sshd logs is matched by. */
  connections?: Connection[];
  /** The client's class that sshd's own log contradicted, and why it was replaced (verification/drop-agreement.ts). */
  reclassified?: { from: FailureClass; reason: string };
}

export interface Connection {
  local: { address: string; port: number };
  remote: { address: string; port: number };
}

/**
 * `ok`: first attempt succeeded; `recovered`: failed first, succeeded on a retry; `failed`: every
 * attempt failed; `canceled`: the run was interrupted. A failure is data, never an exception.
 */
export type TransferStatus = 'ok' | 'recovered' | 'failed' | 'canceled';

export interface TransferRecord {
  type: 'transfer';
  cell: string;
  repeat: number;
  file: string;
  bytes: number;
  status: TransferStatus;
  start_ms: number;
  end_ms: number;
  attempts: AttemptRecord[];
  /** Primary class of the final attempt when it failed, else null. */
  failure_class: FailureClass | null;
  /** Every class seen in any attempt, including on success (e.g. mux fell back to a direct connection). */
  classes: FailureClass[];
  /** The first failed attempt's class: a recovered transfer shows what it recovered from. */
  first_failure_class: FailureClass | null;
  /** Set when one invocation moved many files (unit: batch): each file carries its attempts. */
  batch?: string;
  /** executor: slurm — the node and task (SLURM_PROCID) that ran it. */
  node?: string;
  task?: number;
  /** Pipelines: the rank and the step that moved the file. */
  rank?: number;
  step?: StepName;
}

/** The tool reported success, on the first attempt or after retries. */
export const succeeded = (t: TransferRecord): boolean => t.status === 'ok' || t.status === 'recovered';

/** One attempt of one invocation: a batch's files share their invocation's attempts. */
export const attemptKey = (t: TransferRecord, a: AttemptRecord): string => `${t.batch ?? t.file}\u0000${a.attempt}`;

/** A record's attempts and the classes drawn from them (also after an attempt was reclassified). */
export function recordClasses(attempts: AttemptRecord[], status: TransferStatus): Pick<TransferRecord, 'attempts' | 'failure_class' | 'classes' | 'first_failure_class'> {
  const last = attempts.at(-1);
  return {
    attempts,
    failure_class: status === 'failed' && last ? last.failure_class : null,
    classes: [...new Set(attempts.flatMap((a) => a.classes))] as FailureClass[],
    first_failure_class: attempts.find((a) => a.failure_class !== null)?.failure_class ?? null,
  };
}

/** Wall time of a transfer, retries and backoff included: what latency figures are made of. */
export const latencyMs = (t: TransferRecord): number => t.end_ms - t.start_ms;
