import { pipelineSummary, type PipelineSummary } from './pipeline-summary.js';
import { faultSummaries, type FaultSummary } from './fault-summary.js';
import { attemptKey, latencyMs, succeeded, type FailureClass, type TransferRecord } from '../records/transfer-record.js';
import { type ResultRecord } from '../records/result-record.js';
import { sshdBlind, type CellRecord, type VerificationRecord } from '../records/cell-record.js';
import { percentile, spread, type Spread } from './statistics.js';
import { inFlight, inFlightWarning, type RampLoad } from './in-flight.js';

/** Transfer outcomes, counted the same way for a repeat, a cell and the whole run. */
export interface TransferCounts {
  files: number;
  /** Files not intact at the destination after the run: failed ones and silent drops alike. */
  lost: number;
  ok: number;
  failed: number;
  recovered_by_retry: number;
  silent_drops: number;
}

const COUNT_KEYS = ['files', 'lost', 'ok', 'failed', 'recovered_by_retry', 'silent_drops'] as const;
const zeroCounts = (): TransferCounts => ({ files: 0, lost: 0, ok: 0, failed: 0, recovered_by_retry: 0, silent_drops: 0 });
function addCounts(into: TransferCounts, add: TransferCounts): void {
  for (const k of COUNT_KEYS) into[k] += add[k];
}

/** Metrics of one repeat of one cell. */
export interface RepeatMetrics extends TransferCounts {
  repeat: number;
  /** Failed transfers / files (what the tools reported). */
  failure_rate: number;
  /** Files not intact at the destination / files (failures and silent drops). */
  loss_rate: number;
  throughput_mbps: number;
  files_per_s: number;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
  wall_ms: number;
  classes: Partial<Record<FailureClass, number>>;
  /** Null when no host of the cell is observed (all external: their sshd is the site's). */
  sshd_maxstartups_drops: number | null;
  /** MaxStartups drops the clients saw and sshd's log backs (drop-agreement.ts), plus any on hosts whose log is not read. */
  client_maxstartups_drops: number;
  sshd_sessions_refused: number | null;
  /** Hosts whose server side was not observed (external hosts): their sshd counts nothing above. */
  sshd_unobserved: string[];
  /** How new transfers were paced (transfer.start_rate, or the cap toward external hosts) and how long they waited; null: not paced. */
  pace: CellRecord['paced'] | null;
  /** Transfers really running at once (attempt times): most, time-weighted median, of what target. */
  peak_in_flight: number;
  median_in_flight: number;
  in_flight_target: number;
  /** ms from the first launch to the in_flight_target-th. */
  ramp_ms: number | null;
  /** ms from the first launch to the first exit. */
  first_end_ms: number | null;
  /** Longest wait from asking the launcher to the fork (null for an in-process tool). */
  launch_lag_ms: number | null;
  /** ms from the first launch to when the harness asked for the in_flight_target-th (null: not launched by the launcher). */
  asked_ms: number | null;
  /** Times the kernel's accept queue overflowed (machine-wide; null: not read). */
  listen_overflows: number | null;
  /** Who had the CPU over the ramp: the launcher's work and its wait for a CPU, the machine's load (null: not read). */
  ramp_load: RampLoad | null;
  /** tool: forward: ms until a port forward accepted connections, over every attempt that got one. */
  setup_p50_ms: number | null;
  setup_p95_ms: number | null;
}

export const SPREAD_METRICS = [
  'loss_rate', 'lost', 'failure_rate', 'silent_drops', 'failed', 'recovered_by_retry', 'throughput_mbps', 'files_per_s', 'p50_ms', 'p95_ms', 'p99_ms',
  'sshd_maxstartups_drops', 'sshd_sessions_refused', 'peak_in_flight', 'median_in_flight', 'ramp_ms', 'setup_p50_ms', 'setup_p95_ms',
] as const;
export type SpreadMetric = (typeof SPREAD_METRICS)[number];

/** A cell over all its repeats: counts summed, metrics as mean and min–max. */
export interface CellSummary extends TransferCounts {
  cell: string;
  index: number;
  values: Record<string, unknown>;
  repeats: RepeatMetrics[];
  stats: Partial<Record<SpreadMetric, Spread>>;
  classes: Partial<Record<FailureClass, number>>;
}

export interface Summary {
  name: string;
  cells: CellSummary[];
  /** Repeats that did not reach their concurrency, said in words. */
  warnings: string[];
  overall: TransferCounts & { loss_rate: number; failure_rate: number; classes: Partial<Record<FailureClass, number>> };
  /** Every fault applied (faults/), with the transfers it hit. */
  faults: FaultSummary[];
  /** executor: slurm — transfers per node that launched them. */
  nodes?: NodeSummary[];
  /** Pipelines: per step, ranks, and the invariants that did not hold. */
  pipeline?: PipelineSummary;
}

function countClasses(transfers: readonly TransferRecord[]): Partial<Record<FailureClass, number>> {
  const out: Partial<Record<FailureClass, number>> = {};
  for (const t of transfers) for (const c of t.classes) out[c] = (out[c] ?? 0) + 1;
  return out;
}

function addClasses(into: Partial<Record<FailureClass, number>>, add: Partial<Record<FailureClass, number>>): void {
  for (const [k, v] of Object.entries(add) as [FailureClass, number][]) into[k] = (into[k] ?? 0) + v;
}

/** Attempts classed maxstartups_drop, a batch's shared attempts once (records from before drops were recorded). */
function droppedAttempts(transfers: readonly TransferRecord[]): number {
  return new Set(transfers.flatMap((t) => t.attempts.filter((a) => a.classes.includes('maxstartups_drop')).map((a) => attemptKey(t, a)))).size;
}

/** Where the clients' MaxStartups drops and sshd's differ in a repeat, by how much and why. */
function dropWarning(cell: CellRecord): string | undefined {
  const d = cell.drops;
  if (!d) return undefined;
  const hosts = Object.values(d.hosts);
  const sum = (k: 'sshd' | 'client' | 'classed_otherwise' | 'not_transfers') => hosts.reduce((n, h) => n + h[k], 0);
  // Drops on hosts whose log is not read have nothing to agree with: the unobserved warning says so.
  const client = sum('client');
  if (client === sum('sshd') && d.reclassified === 0) return undefined;
  const why = [
    d.reclassified > 0 ? `${d.reclassified} more attempts looked dropped but sshd logged no drop of them (each attempt's reclassified says why)` : '',
    sum('classed_otherwise') > 0 ? `${sum('classed_otherwise')} dropped connections' attempts were classed by an earlier cause` : '',
    sum('not_transfers') > 0 ? `${sum('not_transfers')} dropped connections were no transfer's (the harness's own, or a mux master's)` : '',
    d.unchecked > 0 ? `besides ${d.unchecked} on hosts whose sshd log is not read` : '',
  ].filter(Boolean);
  return `MaxStartups drops in ${cell.cell} (repeat ${cell.repeat}): sshd logged ${sum('sshd')}, the clients saw ${client} that it backs; ${why.join('; ')}`;
}

export function repeatMetrics(cell: CellRecord, transfers: readonly TransferRecord[], verification: VerificationRecord | undefined): RepeatMetrics {
  const files = cell.files;
  const failed = cell.failed;
  const intact = verification ? verification.counts.ok : 0;
  const okBytes = cell.bytes_ok;
  const wallS = Math.max(cell.end_ms - cell.start_ms, 1e-3) / 1000;
  const latencies = transfers.filter(succeeded).map(latencyMs);
  const hosts = Object.values(cell.sshd);
  const blind = sshdBlind(cell);
  const setups = transfers.flatMap((t) => t.attempts.flatMap((a) => (a.setup_ms !== undefined ? [a.setup_ms] : [])));
  const flight = inFlight(transfers, cell.concurrency ?? (Number(cell.values.concurrency) || files), cell.load);
  return {
    repeat: cell.repeat,
    files,
    lost: files - intact,
    ok: cell.ok,
    failed,
    recovered_by_retry: cell.recovered,
    silent_drops: cell.silent_drops,
    failure_rate: files > 0 ? failed / files : 0,
    loss_rate: files > 0 ? (files - intact) / files : 0,
    throughput_mbps: okBytes / 1e6 / wallS,
    files_per_s: intact / wallS,
    p50_ms: percentile(latencies, 50),
    p95_ms: percentile(latencies, 95),
    p99_ms: percentile(latencies, 99),
    wall_ms: cell.end_ms - cell.start_ms,
    classes: countClasses(transfers),
    sshd_maxstartups_drops: blind ? null : hosts.reduce((n, h) => n + h.maxstartups_drops, 0),
    client_maxstartups_drops: cell.drops ? Object.values(cell.drops.hosts).reduce((n, h) => n + h.client, cell.drops.unchecked) : droppedAttempts(transfers),
    sshd_sessions_refused: blind ? null : hosts.reduce((n, h) => n + h.sessions_refused, 0),
    sshd_unobserved: cell.sshd_unobserved ?? [],
    pace: cell.paced ?? null,
    peak_in_flight: flight.peak,
    median_in_flight: flight.median,
    in_flight_target: flight.target,
    ramp_ms: flight.ramp_ms,
    first_end_ms: flight.first_end_ms,
    launch_lag_ms: flight.launch_lag_ms,
    asked_ms: flight.asked_ms,
    ramp_load: flight.ramp_load,
    listen_overflows: cell.listen_overflows ?? null,
    setup_p50_ms: percentile(setups, 50),
    setup_p95_ms: percentile(setups, 95),
  };
}

export interface NodeSummary {
  node: string;
  transfers: number;
  ok: number;
  failed: number;
  classes: Partial<Record<FailureClass, number>>;
  /** Per cell: what the node launched, and its verified MB/s (bytes of its ok transfers over the time it had any in flight, summed over repeats). */
  cells: { cell: string; transfers: number; failed: number; throughput_mbps: number }[];
}

/** Per node, the transfers it launched and how they ended (records of executor: slurm carry the node). */
function nodeSummaries(records: readonly ResultRecord[]): NodeSummary[] | undefined {
  const by = new Map<string, TransferRecord[]>();
  for (const r of records) if (r.type === 'transfer' && r.node !== undefined) by.set(r.node, [...(by.get(r.node) ?? []), r]);
  if (by.size === 0) return undefined;
  const cellOrder = [...new Set(records.flatMap((r) => (r.type === 'transfer' ? [r.cell] : [])))];
  return [...by].sort(([a], [b]) => a.localeCompare(b)).map(([node, ts]) => ({
    node, transfers: ts.length, ok: ts.filter(succeeded).length, failed: ts.filter((t) => t.status === 'failed').length, classes: countClasses(ts),
    cells: cellOrder.flatMap((cell) => {
      const mine = ts.filter((t) => t.cell === cell);
      if (mine.length === 0) return [];
      const repeats = [...new Set(mine.map((t) => t.repeat))];
      const seconds = repeats.reduce((n, rep) => {
        const r = mine.filter((t) => t.repeat === rep);
        return n + (Math.max(...r.map((t) => t.end_ms)) - Math.min(...r.map((t) => t.start_ms))) / 1000;
      }, 0);
      const bytes = mine.filter(succeeded).reduce((n, t) => n + t.bytes, 0);
      return [{ cell, transfers: mine.length, failed: mine.filter((t) => t.status === 'failed').length, throughput_mbps: seconds > 0 ? bytes / 1e6 / seconds : 0 }];
    }),
  }));
}

/** Everything summary.json and the terminal table show, computed from results.jsonl records alone. */
export function buildSummary(records: readonly ResultRecord[]): Summary {
  const start = records.find((r) => r.type === 'run_start');
  const key = (cell: string, repeat: number) => `${cell}\u0000${repeat}`;
  const transfers = new Map<string, TransferRecord[]>();
  const verifications = new Map<string, VerificationRecord>();
  for (const r of records) {
    if (r.type === 'transfer') {
      const list = transfers.get(key(r.cell, r.repeat)) ?? [];
      list.push(r);
      transfers.set(key(r.cell, r.repeat), list);
    } else if (r.type === 'verification') {
      verifications.set(key(r.cell, r.repeat), r);
    }
  }
  const cells = new Map<string, CellSummary>();
  for (const r of records) {
    if (r.type !== 'cell') continue;
    const metrics = repeatMetrics(r, transfers.get(key(r.cell, r.repeat)) ?? [], verifications.get(key(r.cell, r.repeat)));
    const summary = cells.get(r.cell) ?? { cell: r.cell, index: r.cell_index, values: r.values, repeats: [], stats: {}, classes: {}, ...zeroCounts() };
    summary.repeats.push(metrics);
    addCounts(summary, metrics);
    addClasses(summary.classes, metrics.classes);
    cells.set(r.cell, summary);
  }
  const list = [...cells.values()].sort((a, b) => a.index - b.index);
  for (const c of list) {
    for (const m of SPREAD_METRICS) {
      const s = spread(c.repeats.map((r) => r[m]));
      if (s) c.stats[m] = s;
    }
  }
  const overall: Summary['overall'] = { ...zeroCounts(), loss_rate: 0, failure_rate: 0, classes: {} };
  for (const c of list) {
    addCounts(overall, c);
    addClasses(overall.classes, c.classes);
  }
  overall.failure_rate = overall.files > 0 ? overall.failed / overall.files : 0;
  overall.loss_rate = overall.files > 0 ? overall.lost / overall.files : 0;
  const warnings = list.flatMap((c) =>
    // Under a start rate the concurrency is a ceiling the rate may never reach, by design.
    c.repeats.flatMap((r) => (r.pace?.by === 'scenario' ? [] : inFlightWarning(c.cell, r.repeat, { peak: r.peak_in_flight, median: r.median_in_flight, target: r.in_flight_target, ramp_ms: r.ramp_ms, first_end_ms: r.first_end_ms, launch_lag_ms: r.launch_lag_ms, asked_ms: r.asked_ms, ramp_load: r.ramp_load }) ?? [])),
  );
  for (const r of records) {
    const w = r.type === 'cell' ? dropWarning(r) : undefined;
    if (w) warnings.push(w);
    // What sshd's log cannot show: connections turned away before sshd accepted them.
    if (r.type === 'cell' && (r.listen_overflows ?? 0) > 0)
      warnings.push(`${r.cell} (repeat ${r.repeat}): the kernel's accept queue overflowed ${r.listen_overflows} times (TcpExt ListenOverflows, counted machine-wide): sshd listens with a backlog of 128; a handshake that overflows it is dropped (the client tries again, later) or, once the client has sent data, reset, before sshd sees it, so its log says nothing of them (docs/launcher.md)`);
  }
  const unobserved = [...new Set(list.flatMap((c) => c.repeats.flatMap((r) => r.sshd_unobserved)))];
  if (unobserved.length > 0) warnings.push(`server side not observed on ${unobserved.join(', ')} (external: xferbench did not start their sshd): sshd's drops and refusals there are not counted, and failure classes on the way there come from the clients alone`);
  for (const c of list) {
    // A start rate the scenario asked for is its design; only the cap toward a site's server is a note.
    const paced = c.repeats.flatMap((r) => (r.pace && r.pace.by !== 'scenario' && r.pace.waited_ms > 0 ? [r.pace] : []));
    const pace = paced[0];
    if (pace) warnings.push(`${c.cell}: new transfers to external hosts were paced to ${pace.per_s}/s after a burst of ${pace.burst} (docs/site.md) and waited ${(paced.reduce((n, p) => n + p.waited_ms, 0) / 1000).toFixed(1)} s in all over ${paced.length} repeat(s); --i-administer-this-host lifts the pace`);
  }
  const pipeline = pipelineSummary(records);
  const nodes = nodeSummaries(records);
  const faults = faultSummaries(records);
  for (const f of faults) if (f.outcome === 'not_reached') warnings.push(`fault ${f.kind} on ${f.host} in ${f.cell} #${f.repeat} was not applied: ${f.detail.replace(/^not applied: /, '')}`);
  return { name: start?.name ?? 'unknown', cells: list, warnings, overall, faults, ...(nodes ? { nodes } : {}), ...(pipeline ? { pipeline } : {}) };
}
