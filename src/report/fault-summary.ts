import type { TransferRecord } from '../records/transfer-record.js';
import type { ResultRecord } from '../records/result-record.js';
import type { FaultRecord } from '../records/fault-record.js';
import type { VerificationRecord } from '../records/cell-record.js';

/** What one applied fault did to the transfers running while it lasted, or why it never applied. */
export interface FaultSummary {
  /** `not_reached`: the cell's transfers ended before its time; nothing was done (detail says why). */
  outcome: 'applied' | 'not_reached';
  cell: string;
  repeat: number;
  fault: number;
  kind: string;
  host: string;
  start_ms: number;
  /** null when the run ended before it was undone. */
  end_ms: number | null;
  detail: string;
  /** Transfers with an attempt running while the fault lasted. */
  hit: number;
  recovered: number;
  failed: number;
  /** Reported ok, yet not intact at the destination. */
  silent_drops: number;
}

/** Per applied fault, from results.jsonl alone: which transfers it hit and how they ended. */
export function faultSummaries(records: readonly ResultRecord[]): FaultSummary[] {
  const key = (cell: string, repeat: number) => `${cell}\u0000${repeat}`;
  const transfers = new Map<string, TransferRecord[]>();
  const notIntact = new Map<string, Set<string>>();
  const starts: FaultRecord[] = [];
  const missed: FaultRecord[] = [];
  const ends = new Map<string, FaultRecord>();
  for (const r of records) {
    if (r.type === 'transfer') transfers.set(key(r.cell, r.repeat), [...(transfers.get(key(r.cell, r.repeat)) ?? []), r]);
    else if (r.type === 'verification') notIntact.set(key(r.cell, r.repeat), new Set((r as VerificationRecord).problems.map((p) => p.path)));
    else if (r.type === 'fault_start') starts.push(r);
    else if (r.type === 'fault_missed') missed.push(r);
    else if (r.type === 'fault_end') ends.set(`${key(r.cell, r.repeat)}\u0000${r.fault}\u0000${r.host}`, r);
  }
  const notReached = missed.map((m): FaultSummary => ({ outcome: 'not_reached', cell: m.cell, repeat: m.repeat, fault: m.fault, kind: m.kind, host: m.host, start_ms: m.t_ms, end_ms: null, detail: m.detail, hit: 0, recovered: 0, failed: 0, silent_drops: 0 }));
  const applied = starts.map((s): FaultSummary => {
    const end = ends.get(`${key(s.cell, s.repeat)}\u0000${s.fault}\u0000${s.host}`);
    const until = end?.t_ms ?? Number.POSITIVE_INFINITY;
    const hit = (transfers.get(key(s.cell, s.repeat)) ?? []).filter((t) => t.attempts.some((a) => a.start_ms <= until && a.end_ms >= s.t_ms));
    const bad = notIntact.get(key(s.cell, s.repeat)) ?? new Set<string>();
    return {
      outcome: 'applied',
      cell: s.cell,
      repeat: s.repeat,
      fault: s.fault,
      kind: s.kind,
      host: s.host,
      start_ms: s.t_ms,
      end_ms: end?.t_ms ?? null,
      detail: s.detail,
      hit: hit.length,
      recovered: hit.filter((t) => t.status === 'recovered').length,
      failed: hit.filter((t) => t.status === 'failed').length,
      silent_drops: hit.filter((t) => (t.status === 'ok' || t.status === 'recovered') && bad.has(t.file)).length,
    };
  });
  return [...applied, ...notReached];
}

export function renderFaults(faults: readonly FaultSummary[]): string {
  return faults
    .map((f) => f.outcome === 'not_reached' ? `fault ${f.kind} on ${f.host} [${f.cell} #${f.repeat}]: ${f.detail}` : `fault ${f.kind} on ${f.host} [${f.cell} #${f.repeat}] ${(f.start_ms / 1000).toFixed(1)}–${f.end_ms === null ? 'end' : (f.end_ms / 1000).toFixed(1)} s: hit ${f.hit} transfers, ${f.recovered} recovered by retry, ${f.failed} failed, ${f.silent_drops} silent drops`)
    .join('\n');
}
