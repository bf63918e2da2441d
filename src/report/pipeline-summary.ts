import { type TransferRecord } from '../records/transfer-record.js';
import { type ResultRecord } from '../records/result-record.js';
import { STEP_NAMES, type InvariantViolation, type StepName, type StepRecord } from '../records/pipeline-records.js';
import { esc, num } from './format.js';

/** One step of one pipeline cell, over its repeats. */
export interface StepRow {
  cell: string;
  step: StepName;
  ok: number;
  failed: number;
  skipped: number;
  files: number;
  bytes: number;
  invocations: number;
  /** Transfers of the step that sshd's MaxStartups dropped (an attempt's class), retries included. */
  drops: number;
  /** Bytes over the step's wall time (first start to last end of any rank), mean over repeats. */
  mbps: number;
  classes: Record<string, number>;
}

export interface PipelineSummary {
  steps: StepRow[];
  ranks: { ok: number; failed: number; cleaned: number };
  pending_finalize: number;
  violations: (InvariantViolation & { cell: string; repeat: number })[];
}

/** The pipeline's view of results.jsonl: per cell and step, and every invariant violation. */
export function pipelineSummary(records: readonly ResultRecord[]): PipelineSummary | undefined {
  const steps = records.filter((r): r is StepRecord => r.type === 'step');
  if (steps.length === 0 && !records.some((r) => r.type === 'invariants')) return undefined;
  const rows = new Map<string, StepRow & { walls: Map<number, { start: number; end: number; bytes: number }> }>();
  for (const s of steps) {
    const key = `${s.cell}\u0000${s.step}`;
    const row = rows.get(key) ?? { cell: s.cell, step: s.step, ok: 0, failed: 0, skipped: 0, files: 0, bytes: 0, invocations: 0, drops: 0, mbps: 0, classes: {} as Record<string, number>, walls: new Map() };
    row[s.status]++;
    row.files += s.files;
    row.bytes += s.bytes;
    row.invocations += s.invocations ?? 0;
    if (s.failure_class) row.classes[s.failure_class] = (row.classes[s.failure_class] ?? 0) + 1;
    if (s.status !== 'skipped') {
      const w = row.walls.get(s.repeat) ?? { start: Infinity, end: -Infinity, bytes: 0 };
      row.walls.set(s.repeat, { start: Math.min(w.start, s.start_ms), end: Math.max(w.end, s.end_ms), bytes: w.bytes + s.bytes });
    }
    rows.set(key, row);
  }
  for (const t of records.filter((r): r is TransferRecord => r.type === 'transfer' && r.step !== undefined)) {
    const row = rows.get(`${t.cell}\u0000${t.step}`);
    if (row && t.attempts.some((a) => a.failure_class === 'maxstartups_drop')) row.drops++;
  }
  const order = (r: StepRow) => STEP_NAMES.indexOf(r.step);
  const list = [...rows.values()]
    .map(({ walls, ...row }) => {
      const rates = [...walls.values()].filter((w) => w.end > w.start).map((w) => w.bytes / 1e6 / ((w.end - w.start) / 1000));
      return { ...row, mbps: rates.length ? rates.reduce((a, b) => a + b, 0) / rates.length : 0 };
    })
    .sort((a, b) => (a.cell === b.cell ? order(a) - order(b) : 0));
  const ranks = { ok: 0, failed: 0, cleaned: 0 };
  let pending = 0;
  const violations: PipelineSummary['violations'] = [];
  // The latest check of a cell repeat counts: `xferbench finalize` checks again after it acts.
  const latest = new Map<string, Extract<ResultRecord, { type: 'invariants' }>>();
  for (const r of records) if (r.type === 'invariants') latest.set(`${r.cell}\u0000${r.repeat}`, r);
  for (const r of latest.values()) {
    ranks.ok += r.ranks.ok;
    ranks.failed += r.ranks.failed;
    ranks.cleaned += r.ranks.cleaned;
    pending += r.pending_finalize;
    violations.push(...r.violations.map((v) => ({ ...v, cell: r.cell, repeat: r.repeat })));
  }
  return { steps: list, ranks, pending_finalize: pending, violations };
}

const classText = (c: Record<string, number>) => Object.entries(c).map(([k, v]) => `${k}:${v}`).join(' ') || '-';

/** Rows for the terminal table. */
export function pipelineRows(p: PipelineSummary): { head: string[]; rows: string[][] } {
  return {
    head: ['cell', 'step', 'ranks ok', 'failed', 'skipped', 'files', 'invocations', 'drops', 'MB/s', 'classes'],
    rows: p.steps.map((s) => [s.cell, s.step, String(s.ok), String(s.failed), String(s.skipped), String(s.files), String(s.invocations), String(s.drops), num(s.mbps), classText(s.classes)]),
  };
}

export function invariantsText(p: PipelineSummary): string {
  const head = `invariants: ${p.violations.length === 0 ? 'all held' : `${p.violations.length} violated`}; ranks ${p.ranks.ok} ok, ${p.ranks.failed} failed, ${p.ranks.cleaned} cleaned up${p.pending_finalize ? `; ${p.pending_finalize} temporaries await xferbench finalize` : ''}`;
  return [head, ...p.violations.slice(0, 20).map((v) => `  VIOLATED ${v.invariant} [${v.cell} #${v.repeat}] ${v.path}: ${v.detail}`), ...(p.violations.length > 20 ? [`  ... and ${p.violations.length - 20} more (summary.json lists them all)`] : [])].join('\n');
}

export function pipelineHtml(p: PipelineSummary): string {
  const rows = p.steps.map((s) => `<tr><td>${esc(s.cell)}</td><td>${s.step}</td><td>${s.ok}</td><td class="${s.failed ? 'bad' : ''}">${s.failed}</td><td>${s.skipped}</td><td>${s.files}</td><td>${s.invocations}</td><td class="${s.drops ? 'bad' : ''}">${s.drops}</td><td>${num(s.mbps)}</td><td>${esc(classText(s.classes))}</td></tr>`);
  const violations = p.violations.length === 0
    ? '<p class="good">All four invariants held: final paths complete or empty, no temporary left, committed metadata matches the source, every rank accounted for.</p>'
    : `<table><thead><tr><th>invariant</th><th>cell</th><th>path</th><th>what was wrong</th></tr></thead><tbody>${p.violations.map((v) => `<tr class="bad"><td>${v.invariant}</td><td>${esc(v.cell)} #${v.repeat}</td><td>${esc(v.path)}</td><td>${esc(v.detail)}</td></tr>`).join('')}</tbody></table>`;
  return `<h2>Pipeline steps</h2><table><thead><tr><th>cell</th><th>step</th><th>ranks ok</th><th>failed</th><th>skipped</th><th>files</th><th>invocations</th><th>sshd drops (transfers)</th><th>MB/s</th><th>classes</th></tr></thead><tbody>${rows.join('\n')}</tbody></table>
<p>Ranks: ${p.ranks.ok} ok, ${p.ranks.failed} failed, ${p.ranks.cleaned} cleaned up after a failure.${p.pending_finalize ? ` ${p.pending_finalize} temporaries await <code>xferbench finalize</code>.` : ''}</p>
<h2>Invariants</h2>${violations}`;
}
