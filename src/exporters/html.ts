import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { allCharts } from '../report/chart-specs.js';
import { renderHtmlReport } from '../report/html-report.js';
import { failureSamples, logExcerpts } from '../report/report-evidence.js';
import type { Exporter } from './exporter.js';
import { confined, readCapped, REPORT_CAPS } from '../records/report-folder.js';
import { writeReportFile } from '../report/report-dir.js';
import { MAX_FILE_BYTES } from '../spec/limits.js';

const require = createRequire(import.meta.url);

/** The Chart.js browser bundle shipped in the chart.js package, inlined into report.html. */
async function chartJsBundle(): Promise<string> {
  // The package exports no subpath for it; it sits beside the CommonJS entry in dist/.
  return readFile(join(dirname(require.resolve('chart.js')), 'chart.umd.min.js'), 'utf8');
}

/** report.html: one self-contained page with the summary, thresholds, charts and evidence. */
export const html: Exporter = {
  name: 'html',
  async write({ dir, records, start, summary, thresholds }) {
    const logs = new Map<string, string>();
    for (const f of await readdir(join(dir, 'logs')).catch(() => [] as string[])) {
      if (!f.endsWith('.log')) continue;
      const text = readCapped(confined(dir, join('logs', f)), REPORT_CAPS.log);
      if (text) logs.set(f.slice(0, -4), text.toString('utf8'));
    }
    const page = renderHtmlReport({
      summary,
      thresholds,
      start,
      scenarioYaml: readCapped(confined(dir, 'scenario.yaml'), MAX_FILE_BYTES)?.toString('utf8') ?? '',
      charts: allCharts(summary, records),
      samples: failureSamples(records),
      excerpts: logExcerpts(records, logs),
      chartJs: await chartJsBundle(),
    });
    await writeReportFile(dir, 'report.html', page);
  },
};
