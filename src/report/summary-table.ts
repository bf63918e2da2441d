import { invariantsText, pipelineRows } from './pipeline-summary.js';
import { renderFaults } from './fault-summary.js';
import { num, pct, spreadText, sshdDropsText } from './format.js';
import type { Summary } from './summary.js';
import type { ThresholdResult } from './threshold-check.js';

function renderTable(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function renderSummaryTable(summary: Summary): string {
  // Only tools that set something up per file (tool: forward) have a setup time.
  const setup = summary.cells.some((c) => c.stats.setup_p95_ms !== undefined);
  // Files lost lead: what the people chasing dropped files look for first (failures and silent
  // drops alike); what the tools reported follows.
  const rows = summary.cells.map((c) => [
    c.cell,
    String(c.files),
    String(c.lost),
    spreadText(c.stats.loss_rate, pct),
    String(c.ok),
    String(c.failed),
    String(c.recovered_by_retry),
    String(c.silent_drops),
    spreadText(c.stats.failure_rate, pct),
    spreadText(c.stats.throughput_mbps, num),
    spreadText(c.stats.files_per_s, num),
    spreadText(c.stats.p50_ms, num),
    spreadText(c.stats.p95_ms, num),
    ...(setup ? [spreadText(c.stats.setup_p95_ms, num)] : []),
    `${spreadText(c.stats.peak_in_flight, (v) => v.toFixed(0))}/${c.repeats[0]?.in_flight_target ?? '-'}`,
    sshdDropsText(c.repeats),
    Object.entries(c.classes).map(([k, v]) => `${k}:${v}`).join(' ') || '-',
  ]);
  const o = summary.overall;
  const table = renderTable(
    ['cell', 'files', 'lost', 'loss rate', 'ok', 'failed', 'retried-ok', 'silent', 'failure rate', 'MB/s', 'files/s', 'p50 ms', 'p95 ms', ...(setup ? ['setup p95 ms'] : []), 'in flight', 'sshd drops', 'classes'],
    rows,
  );
  const nodes = summary.nodes ? `\n\nper node: ${summary.nodes.map((n) => `${n.node} ${n.transfers} transfers, ${n.failed} failed${Object.keys(n.classes).length ? ` (${Object.entries(n.classes).map(([k, v]) => `${k}:${v}`).join(' ')})` : ''}`).join('; ')}` : '';
  const pipeline = summary.pipeline ? `\n\n${renderTable(pipelineRows(summary.pipeline).head, pipelineRows(summary.pipeline).rows)}\n${invariantsText(summary.pipeline)}` : '';
  const warnings = summary.warnings.map((w) => `\nwarning: ${w}`).join('') + (summary.faults.length > 0 ? `\n\n${renderFaults(summary.faults)}` : '');
  return `${table}${nodes}${pipeline}${warnings}\n\noverall: ${o.files} transfers, ${o.lost} lost (${pct(o.loss_rate)}): ${o.failed} failed (${pct(o.failure_rate)}), ${o.silent_drops} silent drops; ${o.ok} ok, ${o.recovered_by_retry} recovered by retry`;
}

export function renderThresholds(results: readonly ThresholdResult[]): string {
  if (results.length === 0) return 'thresholds: none set';
  const lines = results.map(
    (r) => `  ${r.passed ? 'PASS' : 'FAIL'}  ${r.metric} ${r.condition}  [${r.where}]  actual ${r.actual === null ? 'n/a' : num(r.actual)}`,
  );
  const failed = results.filter((r) => !r.passed).length;
  return `thresholds: ${results.length - failed} passed, ${failed} failed\n${lines.join('\n')}`;
}
