import { appendFile } from 'node:fs/promises';
import type { Summary } from '../report/summary.js';
import type { ThresholdResult } from '../report/threshold-check.js';
import { num, pct } from '../report/format.js';
import type { Exporter } from './exporter.js';

/** A GitHub Actions job summary (GITHUB_STEP_SUMMARY): the table and the thresholds. */
export function renderMarkdownSummary(summary: Summary, thresholds: readonly ThresholdResult[], reportDir: string): string {
  const failed = thresholds.filter((t) => !t.passed);
  const head = `### xferbench: ${summary.name} ${failed.length === 0 ? '✅' : '❌'}\n\n`;
  const table = [
    '| cell | files | lost | loss rate (min–max) | ok | failed | silent drops | failure rate (min–max) | MB/s | p95 ms | classes |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    ...summary.cells.map((c) => {
      const fr = c.stats.failure_rate;
      const lr = c.stats.loss_rate;
      return `| ${c.cell} | ${c.files} | ${c.lost} | ${pct(lr?.mean)} (${pct(lr?.min)}–${pct(lr?.max)}) | ${c.ok} | ${c.failed} | ${c.silent_drops} | ${pct(fr?.mean)} (${pct(fr?.min)}–${pct(fr?.max)}) | ${num(c.stats.throughput_mbps?.mean)} | ${num(c.stats.p95_ms?.mean)} | ${Object.entries(c.classes).map(([k, v]) => `${k}: ${v}`).join(', ') || '-'} |`;
    }),
  ].join('\n');
  const checks = thresholds.length === 0 ? '' : `\n\n**Thresholds:** ${thresholds.length - failed.length} passed, ${failed.length} failed\n\n${thresholds.map((t) => `- ${t.passed ? '✅' : '❌'} \`${t.metric} ${t.condition}\` [${t.where}]: ${t.actual === null ? 'n/a' : num(t.actual)}`).join('\n')}`;
  return `${head}${table}${checks}\n\nReport: \`${reportDir}\`\n`;
}

/** Under GitHub Actions (GITHUB_STEP_SUMMARY set), each run's table goes on the job's page. */
export function stepSummary(env: NodeJS.ProcessEnv = process.env): Exporter {
  return {
    name: 'step-summary',
    async write({ dir, summary, thresholds }) {
      if (env.GITHUB_STEP_SUMMARY) await appendFile(env.GITHUB_STEP_SUMMARY, renderMarkdownSummary(summary, thresholds, dir));
    },
  };
}
