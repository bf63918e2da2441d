import { join } from 'node:path';
import { writeReportFile } from '../report/report-dir.js';
import { realFolder } from '../records/report-folder.js';
import { allCharts } from '../report/chart-specs.js';
import type { Exporter } from './exporter.js';

/**
 * charts/*.png. report.html draws the same charts itself; the PNGs cost ~330 ms of CPU and
 * ~45 MB of memory, a fifth of a small run, so a run writes them when asked (--png).
 */
export const png: Exporter = {
  name: 'png',
  async write({ dir, records, summary }) {
    await realFolder(dir, 'charts');
    // Loaded here, not with the module: the canvas and Chart.js cost ~80 ms to import.
    const { renderChartPng } = await import('../report/render-chart.js');
    for (const chart of allCharts(summary, records)) await writeReportFile(dir, join('charts', `${chart.name}.png`), renderChartPng(chart.config));
  },
};
