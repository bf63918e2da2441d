import type { Exporter, ReportInput } from '../exporters/exporter.js';
import { folderExporters } from '../exporters/index.js';
import { readResults } from '../records/report-dir.js';
import type { RunStartRecord } from '../records/transfer-record.js';
import { buildSummary } from '../report/summary.js';
import { checkThresholds } from '../report/threshold-check.js';
import type { Threshold } from '../scenario/thresholds.js';

export interface DerivedReportOptions {
  /** Thresholds to judge (default: the scenario's, from run_start). */
  thresholds?: readonly Threshold[];
  /** Further outputs, after the report folder's own (png, JUnit, the step summary, a user's). */
  exporters?: readonly Exporter[];
}

/**
 * Reads results.jsonl, derives the summary and the judged thresholds, and hands them to every
 * exporter: summary.json/.txt and report.html in the folder, then the others.
 * Used at the end of a run and by `xferbench report DIR` for an existing folder.
 */
export async function writeDerivedReport(dir: string, options: DerivedReportOptions = {}): Promise<ReportInput> {
  const records = await readResults(dir);
  const start = records.find((r): r is RunStartRecord => r.type === 'run_start');
  const summary = buildSummary(records);
  const scenarioThresholds = options.thresholds ?? ((start?.scenario as { thresholds?: Threshold[] } | undefined)?.thresholds ?? []);
  const input: ReportInput = { dir, records, ...(start ? { start } : {}), summary, thresholds: checkThresholds(scenarioThresholds, summary) };
  for (const e of [...folderExporters(), ...(options.exporters ?? [])]) await e.write(input);
  return input;
}
