import type { ResultRecord } from '../records/result-record.js';
import type { RunStartRecord } from '../records/run-records.js';
import type { Summary } from '../report/summary.js';
import type { ThresholdResult } from '../report/threshold-check.js';

/** What every exporter gets: one run's records and what was derived from them. */
export interface ReportInput {
  /** The run's report folder (holds results.jsonl). */
  dir: string;
  records: readonly ResultRecord[];
  start?: RunStartRecord;
  summary: Summary;
  thresholds: readonly ThresholdResult[];
}

/**
 * One output of xferbench: a file in the report folder, a file elsewhere, or text on a stream.
 * Each lives in a file of its own in src/exporters/ and is registered by name in index.ts; a
 * user's own is one object passed to runScenario({ exporters }).
 */
export interface Exporter {
  readonly name: string;
  /** Writes this run's output. Called once per run; a suite calls it once per scenario. */
  write(run: ReportInput): Promise<void>;
  /** A scenario of a suite that could not run (exporters that list scenarios record it). */
  failed?(scenario: string, error: string): Promise<void>;
}
