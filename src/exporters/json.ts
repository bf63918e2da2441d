import type { Exporter } from './exporter.js';

/** The summary with thresholds and the report folder as one JSON document (`run --json`). */
export function json(print: (text: string) => void = console.log): Exporter {
  return {
    name: 'json',
    write: async ({ dir, summary, thresholds }) => print(JSON.stringify({ ...summary, thresholds, report_dir: dir }, null, 2)),
  };
}
