import type { FailureClass, TransferRecord } from '../records/transfer-record.js';
import type { ResultRecord } from '../records/result-record.js';
import type { CellRecord } from '../records/cell-record.js';

/** Raw stderr of failed (or fallen-back) transfers, a few per class, for people to read. */
export function failureSamples(records: readonly ResultRecord[], perClass = 5): Partial<Record<FailureClass, { cell: string; file: string; attempt: number; stderr: string }[]>> {
  const out: Partial<Record<FailureClass, { cell: string; file: string; attempt: number; stderr: string }[]>> = {};
  for (const t of records) {
    if (t.type !== 'transfer') continue;
    for (const a of (t as TransferRecord).attempts) {
      for (const cls of a.classes) {
        const list = (out[cls] ??= []);
        if (list.length < perClass && a.stderr_tail.trim()) list.push({ cell: t.cell, file: t.file, attempt: a.attempt, stderr: a.stderr_tail.trim() });
      }
    }
  }
  return out;
}

export interface LogExcerpt {
  host: string;
  cell: string;
  repeat: number;
  lines: string[];
}

/**
 * sshd log lines around the first drop, refusal or throttling period of each cell repeat, taken
 * from the host's full log (`<ms> <line>` per line, as the run writes it).
 */
export function logExcerpts(records: readonly ResultRecord[], logs: ReadonlyMap<string, string>, context = 3, max = 20): LogExcerpt[] {
  const parsed = new Map([...logs].map(([host, text]) => [host, text.split('\n').filter(Boolean).map((l) => ({ t: Number(l.slice(0, l.indexOf(' '))), line: l }))]));
  const out: LogExcerpt[] = [];
  for (const cell of records.filter((r): r is CellRecord => r.type === 'cell')) {
    const byHost = new Map<string, number>();
    for (const e of cell.sshd_events) if (!byHost.has(e.host)) byHost.set(e.host, e.t);
    for (const [host, t] of byHost) {
      const lines = parsed.get(host);
      if (!lines || out.length >= max) continue;
      const at = lines.findIndex((l) => l.t >= t);
      if (at < 0) continue;
      out.push({ host, cell: cell.cell, repeat: cell.repeat, lines: lines.slice(Math.max(0, at - context), at + context * 3).map((l) => l.line) });
    }
  }
  return out;
}
