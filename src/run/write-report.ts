import { appendFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { allCharts } from '../report/chart-specs.js';
import { renderHtmlReport } from '../report/html-report.js';
import { renderMarkdownSummary } from '../report/markdown-summary.js';
import { failureSamples, logExcerpts } from '../report/report-evidence.js';
import { buildSummary, type Summary } from '../report/summary.js';
import { checkThresholds, type ThresholdResult } from '../report/threshold-check.js';
import { renderSummaryTable, renderThresholds } from '../report/summary-table.js';
import type { Threshold } from '../scenario/thresholds.js';
import { readResults, writeReportFile } from '../records/report-dir.js';
import type { RunStartRecord } from '../records/transfer-record.js';

const require = createRequire(import.meta.url);

/** The Chart.js browser bundle shipped in the chart.js package, inlined into report.html. */
async function chartJsBundle(): Promise<string> {
  // The package exports no subpath for it; it sits beside the CommonJS entry in dist/.
  return readFile(join(dirname(require.resolve('chart.js')), 'chart.umd.min.js'), 'utf8');
}

export interface WrittenReport {
  summary: Summary;
  thresholds: ThresholdResult[];
  /** PNG files written (none unless asked for). */
  charts: string[];
}

export interface DerivedReportOptions {
  /** Thresholds to judge (default: the scenario's, from run_start). */
  thresholds?: readonly Threshold[];
  /**
   * Also render charts/*.png. report.html draws the same charts itself; the PNGs cost ~330 ms
   * of CPU and ~45 MB of memory, a fifth of a small run, so a run writes them when asked.
   */
  png?: boolean;
}

/**
 * Everything derived from results.jsonl: summary.json/.txt, report.html and, when asked,
 * charts/*.png. Used at the end of a run and by `xferbench report DIR` for an existing folder.
 */
export async function writeDerivedReport(dir: string, options: DerivedReportOptions = {}): Promise<WrittenReport> {
  const { thresholds } = options;
  const records = await readResults(dir);
  const start = records.find((r): r is RunStartRecord => r.type === 'run_start');
  const summary = buildSummary(records);
  const scenarioThresholds = thresholds ?? ((start?.scenario as { thresholds?: Threshold[] } | undefined)?.thresholds ?? []);
  const results = checkThresholds(scenarioThresholds, summary);
  await writeReportFile(dir, 'summary.json', { ...summary, thresholds: results });
  await writeReportFile(dir, 'summary.txt', `${renderSummaryTable(summary)}\n\n${renderThresholds(results)}\n`);

  const charts = allCharts(summary, records);
  const pngs = options.png ? charts.map((c) => join(dir, 'charts', `${c.name}.png`)) : [];
  if (options.png) {
    await mkdir(join(dir, 'charts'), { recursive: true });
    // Loaded here, not with the module: the canvas and Chart.js cost ~80 ms to import.
    const { renderChartPng } = await import('../report/render-chart.js');
    for (const [i, chart] of charts.entries()) await writeFile(pngs[i]!, renderChartPng(chart.config));
  }

  const logs = new Map<string, string>();
  for (const f of await readdir(join(dir, 'logs')).catch(() => [] as string[])) {
    if (f.endsWith('.log')) logs.set(f.slice(0, -4), await readFile(join(dir, 'logs', f), 'utf8'));
  }
  const html = renderHtmlReport({
    summary,
    thresholds: results,
    start,
    scenarioYaml: await readFile(join(dir, 'scenario.yaml'), 'utf8').catch(() => ''),
    charts,
    samples: failureSamples(records),
    excerpts: logExcerpts(records, logs),
    chartJs: await chartJsBundle(),
  });
  await writeFile(join(dir, 'report.html'), html);
  return { summary, thresholds: results, charts: pngs };
}

/** Under GitHub Actions, the run's table goes into the job summary. */
export async function appendStepSummary(summary: Summary, thresholds: readonly ThresholdResult[], reportDir: string, env = process.env): Promise<void> {
  if (env.GITHUB_STEP_SUMMARY) await appendFile(env.GITHUB_STEP_SUMMARY, renderMarkdownSummary(summary, thresholds, reportDir));
}
