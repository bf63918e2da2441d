import type { SshdCounters, SshdEvent } from './sshd-events.js';

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
 * Per host whose sshd log is read: MaxStartups drops as sshd counted them and as the clients saw
 * them. `client` = `by_port` + `by_count`; a difference is broken down so a reader sees why.
 */
export interface DropAgreement {
  /** Drops sshd logged (rate-limited ones included). */
  sshd: number;
  /** Attempts classed maxstartups_drop that sshd's log backs. */
  client: number;
  /** Matched to a logged drop by the client's own port. */
  by_port: number;
  /** Matched by host and count: the port was not the client's to know (a hop behind a jump host, a client container, a rate-limited log line). */
  by_count: number;
  /** Logged drops of connections whose attempt the client classed otherwise (an earlier cause took precedence). */
  classed_otherwise: number;
  /** Logged drops of connections no transfer attempt opened (the harness's own, a mux master's). */
  not_transfers: number;
}

export interface CellDrops {
  hosts: Record<string, DropAgreement>;
  /** Attempts whose maxstartups_drop sshd's log did not back: the class is gone, each says why. */
  reclassified: number;
  /** Attempts classed maxstartups_drop on hosts whose sshd log is not ours to read (external). */
  unchecked: number;
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

/** A cell record's counts of its transfers by how they ended. */
export const statusCounts = (records: readonly TransferRecord[]): Pick<CellRecord, 'files' | 'ok' | 'failed' | 'recovered' | 'canceled'> => ({
  files: records.length,
  ok: records.filter(succeeded).length,
  failed: records.filter((r) => r.status === 'failed').length,
  recovered: records.filter((r) => r.status === 'recovered').length,
  canceled: records.filter((r) => r.status === 'canceled').length,
});

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

export type FileVerdict = 'ok' | 'missing' | 'corrupt' | 'extra';

export interface VerificationRecord {
  type: 'verification';
  cell: string;
  repeat: number;
  counts: Record<FileVerdict, number>;
  /** Files not ok, with what was expected and found. */
  problems: { path: string; verdict: Exclude<FileVerdict, 'ok'>; expected_size?: number; actual_size?: number }[];
  /** Files whose transfer reported success but that are missing or corrupt at the destination. */
  silent_drops: string[];
}

/** One repeat of one matrix cell, after verification. */
export interface CellRecord {
  type: 'cell';
  cell: string;
  cell_index: number;
  values: Record<string, unknown>;
  repeat: number;
  /** transfer.concurrency of the cell (absent in records written before it was recorded). */
  concurrency?: number;
  start_ms: number;
  end_ms: number;
  files: number;
  bytes_ok: number;
  ok: number;
  failed: number;
  recovered: number;
  canceled: number;
  silent_drops: number;
  /** Server-side counters per host during this repeat (deltas). */
  sshd: Record<string, SshdCounters>;
  /** Throttling periods, drops and refusals as sshd logged them, for timelines. */
  sshd_events: (SshdEvent & { host: string })[];
  mux: { mode: string; master_ok?: boolean; master_error?: string };
  /** Client-seen MaxStartups drops against sshd's own (absent in records written before it was recorded). */
  drops?: CellDrops;
}

export interface RunStartRecord {
  type: 'run_start';
  name: string;
  started_at: string;
  scenario: unknown;
  plan: { cells: { index: number; id: string; values: Record<string, unknown> }[]; repeat: number; total_transfers: number };
  environment: Record<string, string>;
}

/**
 * A fault applied to a host (fault_start) or undone (fault_end), on the run clock (faults/); or
 * never applied because the cell's transfers ended before its time came (fault_missed, at the
 * moment they ended, `detail` saying why): a reader must not believe a fault happened that did not.
 */
export interface FaultRecord {
  type: 'fault_start' | 'fault_end' | 'fault_missed';
  cell: string;
  repeat: number;
  /** Its index in the scenario's faults. */
  fault: number;
  kind: string;
  host: string;
  t_ms: number;
  detail: string;
}

export interface RunEndRecord {
  type: 'run_end';
  ended_at: string;
  outcome: 'completed' | 'aborted' | 'error';
  error?: string;
}

/** The steps of a pipeline rank, in order; cleanup runs only after a failed one (afternotok). */
export const STEP_NAMES = ['stage_in', 'compute', 'stage_out', 'cleanup'] as const;
export type StepName = (typeof STEP_NAMES)[number];

/**
 * One step of one rank. `skipped`: a step it depends on did not succeed (`waited_on` names it),
 * as a batch scheduler removes an afterok job. Failures are data: `failure_class` says why.
 */
export interface StepRecord {
  type: 'step';
  cell: string;
  repeat: number;
  rank: number;
  step: StepName;
  status: 'ok' | 'failed' | 'skipped';
  start_ms: number;
  end_ms: number;
  /** Files the step moved, wrote or removed, and their bytes. */
  files: number;
  bytes: number;
  /** Stage steps: tool invocations (connections) it took. */
  invocations?: number;
  /** A failure class of the transfers, or silent_drop, compute_failed, commit_failed, interrupted. */
  failure_class?: string;
  waited_on?: StepName;
  /** cleanup: the step whose failure it follows, and what it found. */
  reason?: string;
  /** executor: slurm — the step's batch job, the node it ran on, and its --dependency as submitted. */
  job_id?: string;
  node?: string;
  dependency?: string;
}

/** A pipeline invariant that did not hold after a cell repeat (or after `xferbench finalize`). */
export interface InvariantViolation {
  /** 1 final paths complete or empty, 2 no temporary left, 3 metadata of committed files, 4 every rank accounted for. */
  invariant: 1 | 2 | 3 | 4;
  path: string;
  detail: string;
}

export interface InvariantsRecord {
  type: 'invariants';
  cell: string;
  repeat: number;
  /** Ranks by final state: every step ok, a step failed, or failed and cleaned up. */
  ranks: { ok: number; failed: number; cleaned: number };
  /** Temporaries left on purpose for `xferbench finalize` (finalize: defer). */
  pending_finalize: number;
  violations: InvariantViolation[];
}

/** `xferbench resume` continued the run here; the clock goes on from the records before. */
export interface RunResumeRecord {
  type: 'run_resume';
  resumed_at: string;
  /** Cell repeats already complete, not run again. */
  completed: number;
}

export type ResultRecord = RunStartRecord | TransferRecord | VerificationRecord | CellRecord | FaultRecord | RunEndRecord | StepRecord | InvariantsRecord | RunResumeRecord;
