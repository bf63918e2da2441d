// `import 'xferbench/vitest'` in a test file (or a setupFiles entry) adds matchers for the result
// of runScenario(): expect(run).toHaveNoSilentDrops(), toHaveFailureRate({ cell, max }),
// toHaveClass('maxstartups_drop', { cell }). Failure messages show the cell's numbers and the
// report folder, so a red test says where to look.
import { expect } from 'vitest';
import type { FailureClass } from './records/transfer-record.js';
import type { RunResult } from './run/run-scenario.js';
import type { CellSummary } from './report/summary.js';
import { pct } from './report/format.js';

export interface XferbenchMatchers<R = unknown> {
  /** No file that its tool reported as transferred is missing or corrupt, in any cell. */
  toHaveNoSilentDrops(): R;
  /** Failed transfers / files is at most `max` in every repeat of the cell (all cells without `cell`). */
  toHaveFailureRate(options: { cell?: string; max: number }): R;
  /** At least one transfer of the cell (any cell without `cell`) saw this failure class. */
  toHaveClass(failureClass: FailureClass, options?: { cell?: string }): R;
}

declare module 'vitest' {
  interface Assertion<T = any> extends XferbenchMatchers<T> {}
  interface AsymmetricMatchersContaining extends XferbenchMatchers {}
}

function describeCell(c: CellSummary): string {
  const rates = c.repeats.map((r) => pct(r.failure_rate)).join(', ');
  const classes = Object.entries(c.classes).map(([k, v]) => `${k}:${v}`).join(' ') || 'none';
  return `  ${c.cell}: ${c.files} files, ${c.ok} ok, ${c.failed} failed (per repeat: ${rates}), ${c.silent_drops} silent drops, classes ${classes}`;
}

function cellsOf(run: RunResult, cell: string | undefined): CellSummary[] {
  const cells = cell === undefined ? run.summary.cells : run.summary.cells.filter((c) => c.cell === cell);
  if (cells.length === 0) throw new Error(`no cell "${cell}" in this run; its cells: ${run.summary.cells.map((c) => c.cell).join(', ')}`);
  return cells;
}

const where = (run: RunResult) => `\nreport: ${run.reportDir}/report.html`;

expect.extend({
  toHaveNoSilentDrops(run: RunResult) {
    const bad = run.summary.cells.filter((c) => c.silent_drops > 0);
    return {
      pass: bad.length === 0,
      message: () =>
        bad.length === 0
          ? `expected silent drops, but every cell delivered what its tools reported${where(run)}`
          : `expected no silent drops, found ${bad.reduce((n, c) => n + c.silent_drops, 0)}:\n${bad.map(describeCell).join('\n')}${where(run)}`,
    };
  },
  toHaveFailureRate(run: RunResult, { cell, max }: { cell?: string; max: number }) {
    const cells = cellsOf(run, cell);
    const worst = (c: CellSummary) => Math.max(...c.repeats.map((r) => r.failure_rate));
    const over = cells.filter((c) => worst(c) > max);
    return {
      pass: over.length === 0,
      message: () =>
        over.length === 0
          ? `expected a failure rate above ${pct(max)}, but:\n${cells.map(describeCell).join('\n')}${where(run)}`
          : `expected a failure rate of at most ${pct(max)} in every repeat, but:\n${over.map(describeCell).join('\n')}${where(run)}`,
    };
  },
  toHaveClass(run: RunResult, failureClass: FailureClass, options: { cell?: string } = {}) {
    const cells = cellsOf(run, options.cell);
    const seen = cells.reduce((n, c) => n + (c.classes[failureClass] ?? 0), 0);
    return {
      pass: seen > 0,
      message: () =>
        seen > 0
          ? `expected no ${failureClass}, but ${seen} transfer(s) saw it:\n${cells.map(describeCell).join('\n')}${where(run)}`
          : `expected ${failureClass} in ${options.cell ?? 'some cell'}, but no transfer saw it:\n${cells.map(describeCell).join('\n')}${where(run)}`,
    };
  },
});
