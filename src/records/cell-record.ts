/** What one repeat of one matrix cell did: its transfers counted, its files verified, sshd's own view beside the clients'. */
import type { SshdCounters, SshdEvent } from './sshd-events.js';
import type { Link } from '../spec/link.js';
import { succeeded, type TransferRecord } from './transfer-record.js';

/** No host of the cell had its sshd observed (all are a site's servers): its counts are unknown, not 0. */
export const sshdBlind = (cell: Pick<CellRecord, 'sshd' | 'sshd_unobserved'>): boolean => Object.keys(cell.sshd).length === 0 && (cell.sshd_unobserved?.length ?? 0) > 0;

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

/** A cell record's counts of its transfers by how they ended. */
export const statusCounts = (records: readonly TransferRecord[]): Pick<CellRecord, 'files' | 'ok' | 'failed' | 'recovered' | 'canceled'> => ({
  files: records.length,
  ok: records.filter(succeeded).length,
  failed: records.filter((r) => r.status === 'failed').length,
  recovered: records.filter((r) => r.status === 'recovered').length,
  canceled: records.filter((r) => r.status === 'canceled').length,
});

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
  /** Hosts whose sshd xferbench did not start (a site's): nothing of their server side is in `sshd`. */
  sshd_unobserved?: string[];
  /** New transfers were paced (transfer.start_rate, or the cap toward external hosts): at what rate, and how much they waited. */
  paced?: { per_s: number; burst: number; by?: 'scenario' | 'external'; waits: number; waited_ms: number };
  /** The link into each host that had one (spec/link.ts): round trip, jitter, rate in bytes/s. */
  links?: Record<string, Link>;
  /** Client-seen MaxStartups drops against sshd's own (absent in records written before it was recorded). */
  drops?: CellDrops;
  /** Who had the CPU through the repeat (cells/load-watch.ts); absent where /proc cannot tell. */
  load?: LoadSamples;
  /** Times the kernel's accept queue overflowed during the repeat (TcpExt ListenOverflows, machine-wide). */
  listen_overflows?: number;
}

/**
 * Where each reading of a LoadSamples row is: t on the run clock; busy the machine's CPU over all
 * cores and the four thread times cumulative from the repeat's start; runnable the threads
 * runnable at t. Rows are arrays (thousands of them in a long repeat), in this order.
 */
export const LOAD = { t: 0, busy: 1, runnable: 2, launcherCpu: 3, launcherWait: 4, harnessCpu: 5, harnessWait: 6 } as const;

/** Readings through a repeat, each row laid out as LOAD says. */
export interface LoadSamples {
  cores: number;
  /** The launcher's thread was read (false: no launcher was running). */
  launcher: boolean;
  /** The launcher's nice value: -20 when it could raise its priority (src/process/launcher.pl says why). */
  launcher_nice?: number;
  /** The nice value of the launcher's session under autogroup (src/process/launcher.pl says why); absent without autogroup. */
  launcher_group_nice?: number;
  samples: number[][];
}
