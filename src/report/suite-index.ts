import { esc } from './format.js';

export interface SuiteEntry {
  scenario: string;
  file: string;
  /** Report folder relative to the index, when the run got that far. */
  reportDir?: string;
  exitCode: number;
  thresholdsPassed: number;
  thresholdsFailed: number;
  failureRate?: number;
  silentDrops?: number;
  error?: string;
}

const status = (e: SuiteEntry) => (e.exitCode === 0 ? 'passed' : e.exitCode === 1 ? 'thresholds failed' : 'error');

/** index.html of `xferbench suite`: one row per scenario, linking its report. */
export function renderSuiteIndex(entries: readonly SuiteEntry[], title: string): string {
  const rows = entries.map((e) => `<tr class="${e.exitCode === 0 ? 'good' : 'bad'}"><td>${e.reportDir ? `<a href="${esc(e.reportDir)}/report.html">${esc(e.scenario)}</a>` : esc(e.scenario)}</td><td>${esc(e.file)}</td><td>${status(e)}</td>
<td>${e.thresholdsPassed} passed, ${e.thresholdsFailed} failed</td><td>${e.failureRate === undefined ? '-' : `${(e.failureRate * 100).toFixed(1)}%`}</td><td>${e.silentDrops ?? '-'}</td><td>${esc(e.error ?? '')}</td></tr>`);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px}.bad td:nth-child(3){color:#b00020;font-weight:600}.good td:nth-child(3){color:#1b7f3b}</style>
</head><body><h1>${esc(title)}</h1><table><thead><tr><th>scenario</th><th>file</th><th>status</th><th>thresholds</th><th>failure rate</th><th>silent drops</th><th>error</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table></body></html>
`;
}
