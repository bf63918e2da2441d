import type { Spread } from './statistics.js';
import { spreadText, sshdDropsText } from './format.js';
import type { CellSummary, Summary } from './summary.js';

export type Verdict = 'regression' | 'improvement' | 'unchanged' | 'new' | 'gone';

export interface MetricChange {
  metric: 'loss_rate' | 'failure_rate' | 'throughput_mbps' | 'p50_ms' | 'p95_ms';
  base: Spread | null;
  next: Spread | null;
  /** Change of the means: absolute for the loss and failure rates, relative (fraction) for the others. */
  delta: number | null;
  verdict: Verdict;
}

export interface CellComparison {
  cell: string;
  changes: MetricChange[];
  /** Failure classes of each run (a model against the site: which causes differ, not only how many). */
  classes?: { base: CellSummary['classes']; next: CellSummary['classes'] };
  /** sshd's MaxStartups drops of each run, or that they were not observed (an external host). */
  sshd_drops?: { base: string; next: string };
  verdict: Verdict;
}

export interface Tolerances {
  /** Absolute loss- and failure-rate change still counted as noise (0.02 = 2 percentage points). */
  failureRate: number;
  /** Relative throughput / latency change still counted as noise (0.1 = 10 %). */
  relative: number;
}

/**
 * A change is only a verdict when the repeat ranges separate beyond the tolerance: the new run's
 * best repeat must be worse than the base's worst (or better than its best, for an improvement).
 * Overlapping ranges are noise, whatever the means say.
 */
function judge(base: Spread | null | undefined, next: Spread | null | undefined, higherIsWorse: boolean, absolute: boolean, tol: number): Pick<MetricChange, 'delta' | 'verdict'> {
  if (!base || !next) return { delta: null, verdict: 'unchanged' };
  const delta = absolute ? next.mean - base.mean : base.mean === 0 ? (next.mean === 0 ? 0 : Infinity) : (next.mean - base.mean) / base.mean;
  const widen = (v: number, up: boolean) => (absolute ? v + (up ? tol : -tol) : v * (up ? 1 + tol : 1 - tol));
  if (higherIsWorse) {
    if (next.min > widen(base.max, true)) return { delta, verdict: 'regression' };
    if (next.max < widen(base.min, false)) return { delta, verdict: 'improvement' };
  } else {
    if (next.max < widen(base.min, false)) return { delta, verdict: 'regression' };
    if (next.min > widen(base.max, true)) return { delta, verdict: 'improvement' };
  }
  return { delta, verdict: 'unchanged' };
}

function compareCell(base: CellSummary, next: CellSummary, tol: Tolerances): CellComparison {
  // Files lost first: a run that loses more is a regression even when its tools said less.
  const changes: MetricChange[] = [
    { metric: 'loss_rate', base: base.stats.loss_rate ?? null, next: next.stats.loss_rate ?? null, ...judge(base.stats.loss_rate, next.stats.loss_rate, true, true, tol.failureRate) },
    { metric: 'failure_rate', base: base.stats.failure_rate ?? null, next: next.stats.failure_rate ?? null, ...judge(base.stats.failure_rate, next.stats.failure_rate, true, true, tol.failureRate) },
    { metric: 'throughput_mbps', base: base.stats.throughput_mbps ?? null, next: next.stats.throughput_mbps ?? null, ...judge(base.stats.throughput_mbps, next.stats.throughput_mbps, false, false, tol.relative) },
    // The median transfer's time: for one connection per file, mostly its connection and handshake.
    { metric: 'p50_ms', base: base.stats.p50_ms ?? null, next: next.stats.p50_ms ?? null, ...judge(base.stats.p50_ms, next.stats.p50_ms, true, false, tol.relative) },
    { metric: 'p95_ms', base: base.stats.p95_ms ?? null, next: next.stats.p95_ms ?? null, ...judge(base.stats.p95_ms, next.stats.p95_ms, true, false, tol.relative) },
  ];
  const verdict = changes.some((c) => c.verdict === 'regression') ? 'regression' : changes.some((c) => c.verdict === 'improvement') ? 'improvement' : 'unchanged';
  return { cell: base.cell, changes, classes: { base: base.classes, next: next.classes }, sshd_drops: { base: sshdDropsText(base.repeats), next: sshdDropsText(next.repeats) }, verdict };
}

export function compareSummaries(base: Summary, next: Summary, tol: Tolerances): CellComparison[] {
  const nextByCell = new Map(next.cells.map((c) => [c.cell, c]));
  const out: CellComparison[] = base.cells.map((b) => {
    const n = nextByCell.get(b.cell);
    return n ? compareCell(b, n, tol) : { cell: b.cell, changes: [], verdict: 'gone' as const };
  });
  const known = new Set(base.cells.map((c) => c.cell));
  for (const n of next.cells) if (!known.has(n.cell)) out.push({ cell: n.cell, changes: [], verdict: 'new' });
  return out;
}

export function renderComparison(rows: readonly CellComparison[]): string {
  const lines = rows.map((r) => {
    if (r.changes.length === 0) return `${r.cell}: ${r.verdict}`;
    const parts = r.changes.map((c) => {
      const rate = c.metric === 'loss_rate' || c.metric === 'failure_rate';
      const f = rate ? (v: number) => `${(v * 100).toFixed(1)}%` : (v: number) => (c.metric.endsWith('_ms') ? v.toFixed(0) : v.toPrecision(3));
      const d = c.delta === null ? '' : rate ? ` (${c.delta >= 0 ? '+' : ''}${(c.delta * 100).toFixed(1)} pp)` : ` (${c.delta >= 0 ? '+' : ''}${(c.delta * 100).toFixed(1)}%)`;
      return `  ${c.metric}: ${spreadText(c.base, f)} -> ${spreadText(c.next, f)}${d} ${c.verdict === 'unchanged' ? '' : c.verdict.toUpperCase()}`.trimEnd();
    });
    const classes = (k: CellSummary['classes']) => Object.entries(k).map(([name, n]) => `${name}:${n}`).join(' ') || '-';
    if (r.classes) parts.push(`  classes: ${classes(r.classes.base)} -> ${classes(r.classes.next)}`);
    if (r.sshd_drops) parts.push(`  sshd drops: ${r.sshd_drops.base} -> ${r.sshd_drops.next}`);
    return `${r.cell}: ${r.verdict.toUpperCase()}\n${parts.join('\n')}`;
  });
  const regressions = rows.filter((r) => r.verdict === 'regression').length;
  return `${lines.join('\n')}\n\n${regressions} regression(s) in ${rows.length} cell(s)`;
}
