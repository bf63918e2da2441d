import { showText } from '../util/show-text.js';
import { writeReportFile } from '../report/report-dir.js';
import { renderSummaryTable, renderThresholds } from '../report/summary-table.js';
import type { Exporter } from './exporter.js';

/** summary.txt: the terminal table and the thresholds, kept with the run. */
export const summaryTxt: Exporter = {
  name: 'summary-txt',
  write: ({ dir, summary, thresholds }) => writeReportFile(dir, 'summary.txt', showText(`${renderSummaryTable(summary)}\n\n${renderThresholds(thresholds)}\n`, true)),
};
