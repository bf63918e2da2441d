import { showText } from '../util/show-text.js';
import { renderSummaryTable, renderThresholds } from '../report/summary-table.js';
import type { Exporter } from './exporter.js';

/** The table, the thresholds and where the report is, as `xferbench run` prints them. */
export function table(print: (text: string) => void = console.log): Exporter {
  return {
    name: 'table',
    write: async ({ dir, summary, thresholds }) => print(showText(`\n${renderSummaryTable(summary)}\n\n${renderThresholds(thresholds)}\nreport: ${dir}/report.html`, true)),
  };
}
