import type { Exporter, ReportInput } from './exporter.js';
import { folderExporters } from './index.js';
import { join } from 'node:path';
import * as z from 'zod';
import { readResults } from '../report/report-dir.js';
import { ReportFolderError, schemaProblem } from '../records/report-folder.js';
import type { RunStartRecord } from '../records/run-records.js';
import { buildSummary } from '../report/summary.js';
import { checkThresholds } from '../report/threshold-check.js';
import { THRESHOLD_METRICS, type Threshold } from '../spec/thresholds.js';

export interface DerivedReportOptions {
  /** Thresholds to judge (default: the scenario's, from run_start). */
  thresholds?: readonly Threshold[];
  /** Further outputs, after the report folder's own (png, JUnit, the step summary, a user's). */
  exporters?: readonly Exporter[];
}

/** A threshold as run_start records it (the scenario's, parsed). */
const recordedThreshold = z.object({
  metric: z.enum(THRESHOLD_METRICS),
  condition: z.object({ op: z.enum(['<', '<=', '>', '>=', '==', '!=']), value: z.number().finite(), text: z.string().max(200) }),
  scope: z.enum(['cell', 'overall']),
  when: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.array(z.union([z.string(), z.number(), z.boolean()]))])).optional(),
});

/** The thresholds a run recorded in its run_start, checked: the folder may come from elsewhere. */
function recordedThresholds(dir: string, start: RunStartRecord | undefined): Threshold[] {
  const parsed = z.array(recordedThreshold).default([]).safeParse((start?.scenario as { thresholds?: unknown } | undefined)?.thresholds);
  if (!parsed.success) throw new ReportFolderError(`${join(dir, 'results.jsonl')}: run_start's scenario.thresholds: ${schemaProblem(parsed.error)}`);
  return parsed.data;
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
  const scenarioThresholds = options.thresholds ?? recordedThresholds(dir, start);
  const input: ReportInput = { dir, records, ...(start ? { start } : {}), summary, thresholds: checkThresholds(scenarioThresholds, summary) };
  for (const e of [...folderExporters(), ...(options.exporters ?? [])]) await e.write(input);
  return input;
}
