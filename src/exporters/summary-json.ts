import { writeReportFile } from '../report/report-dir.js';
import type { Exporter } from './exporter.js';

/** summary.json: the summary and the judged thresholds, for tools. */
export const summaryJson: Exporter = {
  name: 'summary-json',
  write: ({ dir, summary, thresholds }) => writeReportFile(dir, 'summary.json', { ...summary, thresholds }),
};
