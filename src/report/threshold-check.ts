import { holds, matchesWhen, type Threshold } from '../spec/thresholds.js';
import type { Summary } from './summary.js';

export interface ThresholdResult {
  metric: string;
  condition: string;
  /** The cell checked, or "overall". */
  where: string;
  /** The worst value over repeats (the one that decides). */
  actual: number | null;
  passed: boolean;
}

/**
 * A cell-scoped threshold must hold in every repeat of every cell it applies to (so it is judged
 * on the worst repeat); an overall one is judged on all cells together.
 */
export function checkThresholds(thresholds: readonly Threshold[], summary: Summary): ThresholdResult[] {
  return thresholds.flatMap((t) => {
    if (t.scope === 'overall') {
      const o = summary.overall;
      const perRepeat = summary.cells.flatMap((c) => c.repeats.map((r) => r[t.metric]));
      const totals: Record<string, number | null> = {
        loss_rate: o.loss_rate,
        lost: o.lost,
        failure_rate: o.failure_rate,
        silent_drops: o.silent_drops,
        failed: o.failed,
      };
      const actual = t.metric in totals ? totals[t.metric]! : worst(perRepeat, t.condition.op);
      return [{ metric: t.metric, condition: t.condition.text, where: 'overall', actual, passed: actual !== null && holds(t.condition, actual) }];
    }
    return summary.cells
      .filter((c) => matchesWhen(c.values, t.when))
      .map((c) => {
        const values = c.repeats.map((r) => r[t.metric]);
        const actual = worst(values, t.condition.op);
        const passed = values.length > 0 && values.every((v) => v !== null && holds(t.condition, v));
        return { metric: t.metric, condition: t.condition.text, where: c.cell, actual, passed };
      });
  });
}

/** For upper bounds the worst value is the largest, for lower bounds the smallest. */
function worst(values: readonly (number | null)[], op: string): number | null {
  const present = values.filter((v): v is number => v !== null);
  if (present.length === 0) return null;
  return op.startsWith('>') ? Math.min(...present) : Math.max(...present);
}
